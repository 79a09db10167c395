import ArgumentParser
import MoxCommands

extension Version: RunnableCommand {
    func execute() throws {
        print(moxVersion)
        print(platformName)
    }
}

/// `linux/amd64` style, as Go names platforms, so scripts written for mox keep working.
var platformName: String {
    #if os(Linux)
    let os = "linux"
    #elseif os(macOS)
    let os = "darwin"
    #else
    let os = "unknown"
    #endif
    #if arch(x86_64)
    let arch = "amd64"
    #elseif arch(arm64)
    let arch = "arm64"
    #else
    let arch = "unknown"
    #endif
    return "\(os)/\(arch)"
}
