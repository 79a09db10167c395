/// MailConfig holds the typed configuration of the server: `mox.conf` (static, read at start)
/// and `domains.conf` (dynamic, reloaded when it changes), in mox's sconf format and with
/// mox's field names, so existing mox configuration files load unchanged.
///
/// Every field's documentation is written once, on its declaration in `sconfFields`; the
/// parser, the annotated examples (`mox config describe-static`/`describe-domains`) and the
/// website's config reference all come from there.
///
/// Depends only on Sconf (re-exported: its types are part of this API). Never imports NIO;
/// files are read with plain system calls.
@_exported import Sconf
