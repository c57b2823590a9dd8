import Courier
import Testing

@Suite("Redaction")
struct RedactionTests {
    @Test func scrubsEveryURLInFreeText() {
        let text = "failover from amqp://guest:s3cret@rabbit:5672/%2F to kafka://svc:t0ps3cret@k1:9092 failed; memory://tests is fine"
        let scrubbed = Redaction.scrub(text)
        #expect(scrubbed == "failover from amqp://guest:***@rabbit:5672/%2F to kafka://svc:***@k1:9092 failed; memory://tests is fine")
    }

    @Test func scrubsSecretQueryValues() {
        let text = "connecting kafka://k1:9092?sasl.username=svc&sasl.password=s3cret&acks=all and amqps://h/?password=hunter2&heartbeat=10"
        #expect(
            Redaction.scrub(text)
                == "connecting kafka://k1:9092?sasl.username=svc&sasl.password=***&acks=all and amqps://h/?password=***&heartbeat=10"
        )
    }

    @Test(arguments: TransportURL.secretQueryKeys.sorted())
    func everySecretQueryKeyIsScrubbed(key: String) {
        let scrubbed = Redaction.scrub("kafka://h:9092?\(key)=s3cret&keep=visible")
        #expect(scrubbed == "kafka://h:9092?\(key)=***&keep=visible")
    }

    @Test func secretKeysMatchCaseInsensitivelyAndPercentDecoded() {
        #expect(Redaction.scrub("kafka://h?Password=s3cret") == "kafka://h?Password=***")
        #expect(Redaction.scrub("kafka://h?sasl%2Epassword=s3cret") == "kafka://h?sasl%2Epassword=***")
    }

    @Test func textWithoutURLsIsUnchanged() {
        for text in ["", "nothing to see here", "password=hunter2 in a sentence", "ratio 3:1 at 10:30", "a \"quoted\" 'word'"] {
            #expect(Redaction.scrub(text) == text)
        }
    }

    @Test func urlsWithoutSecretsAreUnchanged() {
        let text = "amqp://guest@h:5672/%2F?heartbeat=10 kafka://a:9092,b:9093 memory://x"
        #expect(Redaction.scrub(text) == text)
    }

    @Test func quotedURLsEndAtTheQuote() {
        #expect(Redaction.scrub("\"amqp://u:s3cret@h\" and 'kafka://v:pw@k'") == "\"amqp://u:***@h\" and 'kafka://v:***@k'")
    }

    @Test func commaSeparatedURLListsAreScrubbedOneByOne() {
        let text = "COURIER_TRANSPORTS=amqp://u:s3cret@h,kafka://svc:t0ps3cret@k1:9092,k2:9093?sasl.password=pw2,memory://m"
        let scrubbed = Redaction.scrub(text)
        #expect(scrubbed == "COURIER_TRANSPORTS=amqp://u:***@h,kafka://svc:***@k1:9092,k2:9093?sasl.password=***,memory://m")
    }

    @Test func passwordContainingAtSignIsFullyHidden() {
        #expect(Redaction.scrub("amqp://u:p@ss@h:5672") == "amqp://u:***@h:5672")
    }

    @Test func transportURLRedactUsesTheSameRules() {
        let text = "log amqp://u:s3cret@h"
        #expect(TransportURL.redact(text) == Redaction.scrub(text))
    }
}
