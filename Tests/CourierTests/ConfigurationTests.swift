import Courier
import Foundation
import Testing

@Suite("CourierConfiguration")
struct ConfigurationTests {
    let registry = TransportRegistry([FakeTransportFactory(schemes: ["test", "other"])])
    let directory: TemporaryDirectory

    init() throws { directory = try TemporaryDirectory() }

    /// Loads with a stand-in environment so the process environment never leaks in.
    func load(
        file: String? = nil, flags: [String] = [], environment: [String: String] = [:]
    ) throws -> CourierConfiguration {
        try CourierConfiguration.load(
            from: ConfigurationSources(configFile: file, transportURLs: flags, environment: environment), registry: registry
        )
    }

    /// Loads the JSON `text` from a file and returns the error, which must be a ``CourierError``.
    func loadError(json text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> (error: CourierError, path: String) {
        let path = try directory.write(text)
        let error = try #require(throws: CourierError.self, sourceLocation: sourceLocation) { try load(file: path) }
        return (error, path)
    }

    // MARK: Sources and precedence

    @Test func fileListsTransportsInOrderWithNamesAndOptions() throws {
        let path = try directory.write("""
            {"transports": [
                "test://primary",
                {"name": "backup", "url": "other://b?limit=3", "options": {"limit": 32}},
                {"url": "test://flags", "options": {"limit": "64"}}
            ]}
            """)
        let configuration = try load(file: path)
        #expect(configuration.transports.map(\.spec.name) == ["test://primary", "backup", "test://flags"])
        #expect(configuration.transports.map(\.origin) == ["\(path): transports[0]", "\(path): transports[1]", "\(path): transports[2]"])
        #expect(configuration.transports.map(\.capabilities.maxMessageBytes) == [100, 32, 64])
        #expect(configuration.transports[1].spec.options == ["limit": "32"])
        #expect(configuration.transports[1].spec.url.scheme == "other")
    }

    @Test func optionScalarsBecomeText() throws {
        let path = try directory.write("""
            {"transports": [{"url": "test://h", "options": {"limit": 12, "ratio": 1.5, "flag": true, "off": false, "name": "x"}}]}
            """)
        let lenient = TransportRegistry([LenientFactory()])
        let configuration = try CourierConfiguration.load(
            from: ConfigurationSources(configFile: path, environment: [:]), registry: lenient
        )
        #expect(configuration.transports[0].spec.options == ["limit": "12", "ratio": "1.5", "flag": "true", "off": "false", "name": "x"])
    }

    @Test func configVariableIsUsedWhenNoFileIsGiven() throws {
        let path = try directory.write(#"{"transports": ["test://from-env-file"]}"#)
        let configuration = try load(environment: [ConfigurationSources.configFileVariable: path])
        #expect(configuration.transports.map(\.spec.name) == ["test://from-env-file"])
    }

    @Test func explicitFileWinsOverConfigVariable() throws {
        let chosen = try directory.write(#"{"transports": ["test://chosen"]}"#, name: "chosen.json")
        let configuration = try load(file: chosen, environment: [ConfigurationSources.configFileVariable: directory.missingFile])
        #expect(configuration.transports.map(\.spec.name) == ["test://chosen"])
    }

    @Test func blankConfigVariableIsIgnored() throws {
        let configuration = try load(flags: ["test://a"], environment: [ConfigurationSources.configFileVariable: "  "])
        #expect(configuration.transports.map(\.spec.name) == ["test://a"])
    }

    @Test func transportsVariableReplacesTheFile() throws {
        let path = try directory.write(#"{"transports": ["test://from-file"]}"#)
        let configuration = try load(
            file: path, environment: [ConfigurationSources.transportsVariable: "test://env-1 , other://env-2"]
        )
        #expect(configuration.transports.map(\.spec.name) == ["test://env-1", "other://env-2"])
        #expect(configuration.transports.map(\.origin) == ["COURIER_TRANSPORTS entry 1", "COURIER_TRANSPORTS entry 2"])
    }

    @Test func transportFlagsReplaceVariableAndFile() throws {
        let path = try directory.write(#"{"transports": ["test://from-file"]}"#)
        let configuration = try load(
            file: path, flags: ["other://flag-1", "test://flag-2"],
            environment: [ConfigurationSources.transportsVariable: "test://env"]
        )
        #expect(configuration.transports.map(\.spec.name) == ["other://flag-1", "test://flag-2"])
        #expect(configuration.transports.map(\.origin) == ["--transport #1", "--transport #2"])
    }

    @Test func transportsVariableKeepsKafkaStyleHostLists() throws {
        let configuration = try load(environment: [ConfigurationSources.transportsVariable: "test://a:9092,b:9093, other://c,d"])
        #expect(configuration.transports.map(\.spec.name) == ["test://a:9092,b:9093", "other://c,d"])
        #expect(configuration.transports[0].spec.url.endpoints.map(\.host) == ["a", "b"])
        #expect(configuration.transports[1].spec.url.endpoints.map(\.host) == ["c", "d"])
    }

    @Test func brokenFileIsAnErrorEvenWhenFlagsReplaceItsTransports() throws {
        let path = try directory.write("{not json")
        #expect(throws: CourierError.self) { try load(file: path, flags: ["test://a"]) }
    }

    // MARK: Errors, one per bad input

    @Test func missingFile() throws {
        let missing = directory.missingFile
        let error = try #require(throws: CourierError.self) { try load(file: missing) }
        #expect(error.code == .invalidConfiguration)
        #expect(error.message.hasPrefix("\(missing): cannot read the configuration file"))
        #expect(error.message.contains("--config or COURIER_CONFIG"))
    }

    @Test func missingFileNamedByConfigVariable() throws {
        let missing = directory.missingFile
        let error = try #require(throws: CourierError.self) {
            try load(environment: [ConfigurationSources.configFileVariable: missing])
        }
        #expect(error.message.hasPrefix("\(missing): cannot read"))
    }

    @Test func invalidJSON() throws {
        let (error, path) = try loadError(json: #"{"transports": ["test://a",]"#)
        #expect(error.code == .invalidConfiguration)
        #expect(error.message.hasPrefix("\(path): is not valid JSON"))
        #expect(error.message.contains("fix the syntax"))
    }

    @Test(arguments: [("[]", "an array"), (#""memory://a""#, "a string"), ("42", "a number"), ("null", "null")])
    func topLevelMustBeAnObject(json: String, kind: String) throws {
        let (error, path) = try loadError(json: json)
        #expect(error.message.hasPrefix("\(path): the top level is \(kind); it must be an object"))
    }

    @Test func unknownTopLevelField() throws {
        let (error, path) = try loadError(json: #"{"transports": ["test://a"], "transport": ["test://b"]}"#)
        #expect(error.message == "\(path): top level: has an unknown field \"transport\"; known fields: breaker, retry, spool, transports")
    }

    @Test func transportsMissing() throws {
        let (error, path) = try loadError(json: "{}")
        #expect(error.message.hasPrefix("\(path): transports: is missing"))
        #expect(error.message.contains(#""transports": ["memory://demo"]"#))
    }

    @Test(arguments: [(#""test://a""#, "a string"), (#"{"url": "test://a"}"#, "an object"), ("true", "a boolean")])
    func transportsNotAnArray(value: String, kind: String) throws {
        let (error, path) = try loadError(json: #"{"transports": \#(value)}"#)
        #expect(error.message.hasPrefix("\(path): transports: is \(kind); it must be an array"))
    }

    @Test(arguments: [("42", "a number"), ("[]", "an array"), ("null", "null"), ("false", "a boolean")])
    func entryNotStringOrObject(value: String, kind: String) throws {
        let (error, path) = try loadError(json: #"{"transports": ["test://a", \#(value)]}"#)
        #expect(error.message.hasPrefix("\(path): transports[1]: is \(kind); a transport is a URL string or an object with \"url\""))
    }

    @Test func objectWithoutURL() throws {
        let (error, path) = try loadError(json: #"{"transports": [{"name": "primary"}]}"#)
        #expect(error.message == "\(path): transports[0].url: is missing; every transport needs a URL")
    }

    @Test func urlNotAString() throws {
        let (error, path) = try loadError(json: #"{"transports": [{"url": ["test://a"]}]}"#)
        #expect(error.message == "\(path): transports[0].url: is an array; it must be a URL string")
    }

    @Test func unknownFieldInEntry() throws {
        let (error, path) = try loadError(json: #"{"transports": [{"url": "test://a", "opts": {}}]}"#)
        #expect(error.message == "\(path): transports[0]: has an unknown field \"opts\"; known fields: name, options, url")
    }

    @Test func emptyName() throws {
        let (error, path) = try loadError(json: #"{"transports": [{"url": "test://a", "name": ""}]}"#)
        #expect(error.message == "\(path): transports[0].name: is empty; it must be a non-empty string")
    }

    @Test func nameNotAString() throws {
        let (error, path) = try loadError(json: #"{"transports": [{"url": "test://a", "name": 7}]}"#)
        #expect(error.message == "\(path): transports[0].name: is a number; it must be a non-empty string")
    }

    @Test func optionsNotAnObject() throws {
        let (error, path) = try loadError(json: #"{"transports": [{"url": "test://a", "options": ["limit"]}]}"#)
        #expect(error.message == "\(path): transports[0].options: is an array; it must be an object of option names to values")
    }

    @Test(arguments: [("[1, 2]", "an array"), (#"{"a": 1}"#, "an object"), ("null", "null")])
    func optionValueNotAScalar(value: String, kind: String) throws {
        let (error, path) = try loadError(json: #"{"transports": [{"url": "test://a", "options": {"limit": \#(value)}}]}"#)
        #expect(error.message == "\(path): transports[0].options.limit: is \(kind); option values are strings, numbers or booleans")
    }

    @Test func optionRejectedByTheFactoryNamesTheEntry() throws {
        let (error, path) = try loadError(json: #"{"transports": ["test://a", {"url": "test://b", "options": {"limit": 5000}}]}"#)
        #expect(error.code == .invalidConfiguration)
        #expect(error.message.hasPrefix("\(path): transports[1]: test://b: option limit=\"5000\""))
    }

    @Test func badURLInFileNamesTheEntry() throws {
        let (error, path) = try loadError(json: #"{"transports": ["test://a", "test://b:99999"]}"#)
        #expect(error.code == .invalidConfiguration)
        #expect(error.message.hasPrefix("\(path): transports[1]: "))
        #expect(error.message.contains("port \"99999\""))
    }

    @Test func unknownSchemeListsTheRegisteredSchemes() throws {
        let (error, path) = try loadError(json: #"{"transports": [{"url": "kafka://k:9092"}]}"#)
        #expect(error.code == .unknownScheme)
        #expect(error.message.hasPrefix("\(path): transports[0]: kafka://k:9092: no transport is registered for scheme \"kafka\""))
        #expect(error.message.contains("registered schemes: other, test"))
    }

    @Test func unknownSchemeFromAFlagNamesTheFlag() throws {
        let error = try #require(throws: CourierError.self) { try load(flags: ["test://a", "nope://b"]) }
        #expect(error.code == .unknownScheme)
        #expect(error.message.hasPrefix("--transport #2: nope://b"))
    }

    @Test func badURLFromTheVariableNamesTheEntry() throws {
        let error = try #require(throws: CourierError.self) {
            try load(environment: [ConfigurationSources.transportsVariable: "test://a,other://b:0"])
        }
        #expect(error.code == .invalidConfiguration)
        #expect(error.message.hasPrefix("COURIER_TRANSPORTS entry 2: \"other://b:0\" has port \"0\""))
    }

    @Test func duplicateNames() throws {
        let (error, path) = try loadError(json: #"{"transports": [{"url": "test://a", "name": "main"}, {"url": "other://b", "name": "main"}]}"#)
        #expect(error.message == "\(path): transports[1]: the name \"main\" is already used by \(path): transports[0]; give each transport its own name or URL")
    }

    @Test func duplicateURLsWithoutNames() throws {
        let error = try #require(throws: CourierError.self) { try load(flags: ["test://a", "test://a"]) }
        #expect(error.message.hasPrefix("--transport #2: the name \"test://a\" is already used by --transport #1"))
    }

    @Test func noTransportsAtAll() throws {
        let error = try #require(throws: CourierError.self) { try load() }
        #expect(error.code == .invalidConfiguration)
        #expect(error.message.hasPrefix("transports: no transport is configured"))
        #expect(error.message.contains("--transport memory://demo"))
        #expect(error.message.contains("COURIER_TRANSPORTS"))
        #expect(error.message.contains("COURIER_CONFIG"))
    }

    @Test func emptyTransportListInFile() throws {
        let (error, _) = try loadError(json: #"{"transports": []}"#)
        #expect(error.message.hasPrefix("transports: no transport is configured"))
    }

    @Test func blankTransportsVariableCountsAsUnset() throws {
        let error = try #require(throws: CourierError.self) { try load(environment: [ConfigurationSources.transportsVariable: " "]) }
        #expect(error.message.hasPrefix("transports: no transport is configured"))
    }

    // MARK: Secrets

    @Test(arguments: [
        #"{"transports": [{"url": "nope://u:s3cret@h"}]}"#,
        #"{"transports": ["test://u:s3cret@h:0"]}"#,
        #"{"transports": ["test://u:s3cret@h", "test://u:s3cret@h"]}"#,
        #"{"transports": ["test://u:s3cret@h?bogus=1"]}"#,
        #"{"transports": ["test://u:s3cret@h?limit=0"]}"#,
        #"{"transports": ["test:/u:s3cret@h"]}"#,
        #"{"transports": ["test://h?sasl.password=s3cret&limit=x"]}"#,
        #"{"transports": ["test://u:s3cret@h" "test://b"]}"#,
        #"{"transports": ["test://u:s3cret@h"], "extra": "test://u:s3cret@h"}"#,
        #"{"transports": [{"url": "test://u:s3cret@h", "options": {"limit": [1]}}]}"#,
    ])
    func secretsNeverAppearInFileErrors(json: String) throws {
        let (error, _) = try loadError(json: json)
        #expect(!error.description.contains("s3cret"), "\(error.description)")
        #expect(!String(describing: error).contains("s3cret"))
    }

    @Test(arguments: [
        ["nope://u:s3cret@h"],
        ["test://u:s3cret@h:99999"],
        ["test://u:s3cret@h", "test://u:s3cret@h"],
        ["test:/u:s3cret@h"],
        ["test://u:s3cret@h?limit=abc"],
        ["u:s3cret@h:5672"],
    ])
    func secretsNeverAppearInFlagOrVariableErrors(urls: [String]) throws {
        let flagError = try #require(throws: CourierError.self) { try load(flags: urls) }
        #expect(!flagError.description.contains("s3cret"), "\(flagError.description)")
        let variableError = try #require(throws: CourierError.self) {
            try load(environment: [ConfigurationSources.transportsVariable: urls.joined(separator: ",")])
        }
        #expect(!variableError.description.contains("s3cret"), "\(variableError.description)")
    }
}

/// Accepts any option, so tests can see how option values are converted.
private struct LenientFactory: TransportFactory {
    var schemes: [String] { ["test"] }
    var summary: String { "accepts every option" }
    func capabilities(for spec: TransportSpec) throws -> TransportCapabilities { TransportCapabilities() }
    func makeTransport(_ spec: TransportSpec, context: TransportContext) throws -> any Transport {
        FakeTransport(spec: spec, capabilities: TransportCapabilities())
    }
}
