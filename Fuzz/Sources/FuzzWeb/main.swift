import CLibFuzzer
#if canImport(Glibc)
import Glibc
#endif
import TickgateFuzzSupport

// libFuzzer runs the harness: `Fuzz/run.sh web SECONDS`.
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
/// The input of one run. Exported under libFuzzer's name too, which its
/// runtime expects to find.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    FuzzTargets.webConnection(bytes)
    return 0
}

let status = LLVMFuzzerRunDriver(&argc, &argv, fuzzOne)
exit(status)
