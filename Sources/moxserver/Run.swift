// Carrying out parsed commands: the command tree (module MoxCommands) hands each parsed command
// to the handler installed here, which calls the command's execute().

import ArgumentParser
import Dispatch
import FoundationEssentials
import MailConfig
import MoxCommands

#if canImport(Glibc)
import Glibc
#endif

/// A command of the tree that this executable knows how to carry out.
protocol RunnableCommand: MoxCommand {
    func execute() throws
}

/// Connects the command tree to the implementations in this module.
func installCommandHandler() {
    CommandHandler.handler = { command in
        guard let runnable = command as? any RunnableCommand else {
            try fail("command \(type(of: command)._commandName) is not implemented")
        }
        try runnable.execute()
    }
}

/// Prints `message` to standard error with the command's name and exits with status 1.
func fail(_ message: String) throws -> Never {
    writeStderr("mox: \(message)\n")
    throw ExitCode(1)
}

/// Loads mox.conf (from -config) and domains.conf; on problems prints them and exits with status 1.
func loadConfig() throws -> Config {
    do {
        return try ConfigLoader.load(staticPath: GlobalOptions.shared.configPath)
    } catch {
        try fail("loading configuration:\n\(error)")
    }
}

/// Applies an edit to domains.conf; a refused edit is printed and exits with status 1.
@discardableResult
func editConfig(_ edit: (String, Config) throws(ConfigEditError) -> String) throws -> Config {
    do {
        return try ConfigEditor.apply(staticPath: GlobalOptions.shared.configPath, edit)
    } catch {
        try fail(error.description)
    }
}

/// Runs async code from a synchronous command and waits for it.
func runAsync<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        do {
            box.result = .success(try await body())
        } catch {
            box.result = .failure(error)
        }
        done.signal()
    }
    done.wait()
    switch box.result {
    case .success(let value):
        return value
    case .failure(let error as ExitCode):
        throw error
    case .failure(let error):
        try fail("\(error)")
    case nil:
        try fail("internal error: task ended without a result")
    }
}

/// Carries a task's result to the thread waiting for it; the semaphore orders the accesses.
final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
}
