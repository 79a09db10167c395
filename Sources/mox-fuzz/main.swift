// libFuzzer's driver for the targets in MoxFuzz. Built only by scripts/fuzz (MOX_FUZZ=1, with
// -sanitize=fuzzer,address). SwiftPM names this file's top-level code the program's main, so
// libFuzzer's own main is never linked in; this code hands the arguments to libFuzzer's driver
// instead. The target is chosen with MOX_FUZZ_TARGET (dns-message, spf-record or dkim-header).

import MoxFuzz

#if canImport(Glibc)
import Glibc
#endif

/// int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *Data, size_t Size))
@_silgen_name("LLVMFuzzerRunDriver")
func runDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

guard FuzzTarget.selected != nil else {
    let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
    print("mox-fuzz: set MOX_FUZZ_TARGET to one of: \(names)")
    exit(2)
}
var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
exit(runDriver(&argc, &argv) { data, size in
    let input = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    do {
        try FuzzTarget.selected?.run(input)
    } catch {
        // A crash is what libFuzzer reports, with the input.
        fatalError("\(error)")
    }
    return 0
})
