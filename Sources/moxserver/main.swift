// The `mox` command: the argument-parser command tree. Each command's run() stays thin and
// calls into the library modules.

import ArgumentParser
import FoundationEssentials

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
Mox.main(arguments)
