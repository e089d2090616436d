import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

/// Prints `error: …` to standard error and exits non-zero.
func failure(_ message: String, code: Int32 = 1) -> ExitCode {
    printError("error: \(message)")
    return ExitCode(code)
}

func printError(_ message: String) {
    let line = message + "\n"
    _ = line.withCString { write(STDERR_FILENO, $0, strlen($0)) }
}

func printOut(_ message: String) {
    print(message)
    fflush(nil)
}
