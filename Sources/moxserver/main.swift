// The `mox` command. The command tree (names, arguments, help) is in MoxCommands; this module
// carries the commands out, each execute() thin and calling into the library modules.

import ArgumentParser
import FoundationEssentials
import MoxCommands

#if canImport(Glibc)
import Glibc
#endif

// mox's global flags come before the command (`mox -config path/mox.conf config test`), as Go's
// flag package reads them; take them off before argument-parser sees the command line.
var arguments = Array(CommandLine.arguments.dropFirst())
do {
    try GlobalOptions.shared.consume(&arguments)
} catch {
    writeStderr("mox: \(error)\n")
    exit(2)
}
installCommandHandler()
Mox.main(Mox.markingDashedFingerprint(arguments))
