#ifndef CZLIB_SHIM_H
#define CZLIB_SHIM_H
#include <zlib.h>

// The deflateInit2/inflateInit2 macros are not visible to Swift; these call the functions
// behind them with the library's own version and structure size.
static inline int czlib_deflate_init_raw(z_streamp strm, int level) {
    return deflateInit2_(strm, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, (int)sizeof(z_stream));
}

static inline int czlib_inflate_init_raw(z_streamp strm) {
    return inflateInit2_(strm, -15, ZLIB_VERSION, (int)sizeof(z_stream));
}

// The zlib format (RFC 1950) with its header and checksum, as git stores objects.
static inline int czlib_inflate_init_zlib(z_streamp strm) {
    return inflateInit2_(strm, 15, ZLIB_VERSION, (int)sizeof(z_stream));
}
#endif
