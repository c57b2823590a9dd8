import Courier
import Testing

@Suite("CourierError")
struct CourierErrorTests {
    @Test func descriptionNamesCodeMessageAndTransport() {
        let plain = CourierError(.rejected, "the broker said no")
        #expect(plain.description == "rejected: the broker said no")
        #expect(plain.from(transport: "primary").description == "rejected: the broker said no [transport primary]")
    }

    @Test func fromTransportKeepsTheFirstName() {
        let error = CourierError(.closed, "gone").from(transport: "first").from(transport: "second")
        #expect(error.transport == "first")
    }

    @Test func helperFlags() {
        let unavailable = CourierError.unavailable("down", transport: "t")
        #expect(unavailable.code == .unavailable)
        #expect(unavailable.isRetriable && !unavailable.mayDuplicate && !unavailable.isFatal)
        #expect(unavailable.transport == "t")

        let unknown = CourierError.outcomeUnknown("no confirm")
        #expect(unknown.code == .outcomeUnknown)
        #expect(unknown.isRetriable && unknown.mayDuplicate)

        let closed = CourierError.closed("shut down")
        #expect(closed.code == .closed && !closed.isRetriable)
    }

    @Test func configurationErrorNamesTheField() {
        let error = CourierError.configuration(field: "transports[1].url", "is missing")
        #expect(error.code == .invalidConfiguration)
        #expect(error.message == "transports[1].url: is missing")
    }

    @Test func codesCompareByString() {
        let custom: CourierError.Code = "plugin-specific"
        #expect(custom == CourierError.Code("plugin-specific"))
        #expect(CourierError.Code("unavailable") == .unavailable)
        #expect(custom != .fatal)
        #expect(custom.description == "plugin-specific")
    }
}
