import Testing
@testable import CourierCLI

@Suite("courier help and usage errors")
struct HelpAndUsageTests {
    @Test("--help lists every subcommand with its abstract")
    func overview() async {
        let result = await runCourier(["--help"])
        #expect(result.status == 0)
        for name in ["check", "transports", "demo"] {
            #expect(result.out.contains("  \(name) "))
        }
        #expect(result.out.contains("USAGE: courier <subcommand>"))
    }

    @Test("subcommand help has OVERVIEW, USAGE and OPTIONS sections", arguments: ["check", "transports", "demo"])
    func subcommandHelp(name: String) async {
        for arguments in [[name, "--help"], ["help", name], [name, "-h"]] {
            let result = await runCourier(arguments)
            #expect(result.status == 0)
            #expect(result.out.hasPrefix("OVERVIEW: "))
            #expect(result.out.contains("USAGE: courier \(name)"))
            #expect(result.out.contains("OPTIONS:"))
            #expect(result.out.contains("-h, --help"))
        }
    }

    @Test("no subcommand is a usage error that shows the overview")
    func noSubcommand() async {
        let result = await runCourier([])
        #expect(result.status == 2)
        #expect(result.err.contains("no subcommand given"))
        #expect(result.err.contains("SUBCOMMANDS:"))
    }

    @Test("an unknown subcommand is a usage error listing the real ones")
    func unknownSubcommand() async {
        let result = await runCourier(["chek"])
        #expect(result.status == 2)
        #expect(result.err.contains("unknown subcommand 'chek'"))
        #expect(result.err.contains("check, transports, demo"))
    }

    @Test("an unknown option is a usage error naming it")
    func unknownOption() async {
        let result = await runCourier(["check", "--transprt", "memory://a"])
        #expect(result.status == 2)
        #expect(result.err.contains("unknown option '--transprt' for 'courier check'"))
    }

    @Test("an option missing its value is a usage error")
    func missingValue() async {
        let result = await runCourier(["check", "--transport"])
        #expect(result.status == 2)
        #expect(result.err.contains("'--transport' needs a value <url>"))
    }

    @Test("a non-repeatable option given twice is a usage error")
    func repeatedOption() async {
        let result = await runCourier(["check", "--config", "a.json", "--config", "b.json"])
        #expect(result.status == 2)
        #expect(result.err.contains("'--config' was given twice"))
    }

    @Test("--name=value is accepted")
    func inlineValue() async {
        let result = await runCourier(["check", "--transport=memory://inline"])
        #expect(result.status == 0)
        #expect(result.out.contains("memory://inline"))
    }

    @Test("--version prints the version")
    func version() async {
        let result = await runCourier(["--version"])
        #expect(result.status == 0)
        #expect(result.out == CourierCommandLine.version + "\n")
    }
}
