import ArgumentParser
import FoundationEssentials
import MailConfig
import MoxCommands

extension ConfigTest: RunnableCommand {
    func execute() throws {
        do {
            _ = try ConfigLoader.load(staticPath: GlobalOptions.shared.configPath)
        } catch {
            if error.errors.count > 1 {
                writeStderr("multiple errors:\n")
            }
            for e in error.errors {
                writeStderr("\(e)\n")
            }
            throw ExitCode(1)
        }
        print("config OK")
    }
}

extension ConfigDescribeStatic: RunnableCommand {
    func execute() throws {
        print(ConfigDescribe.staticExample, terminator: "")
    }
}

extension ConfigDescribeDomains: RunnableCommand {
    func execute() throws {
        print(ConfigDescribe.dynamicExample, terminator: "")
    }
}
