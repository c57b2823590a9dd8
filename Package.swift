// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Courier",
    products: [
        .library(name: "Courier", targets: ["Courier"]),
        .library(name: "CourierMemory", targets: ["CourierMemory"]),
        .library(name: "CourierKafka", targets: ["CourierKafka"]),
        .library(name: "CourierAMQP", targets: ["CourierAMQP"]),
        .library(name: "CourierSQLite", targets: ["CourierSQLite"]),
        .library(name: "CourierConformance", targets: ["CourierConformance"]),
        .library(name: "CourierChaos", targets: ["CourierChaos"]),
        .executable(name: "courier", targets: ["CourierCLI"]),
    ],
    targets: [
        // Core: envelope, errors, transport SPI and registry, clock, configuration. No C.
        .target(name: "Courier", path: "Sources/Courier"),
        // Durable spool and idempotency store on Debian's libsqlite3.
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", pkgConfig: "sqlite3"),
        .target(name: "CourierSQLite", dependencies: ["Courier", "CSQLite"], path: "Sources/CourierSQLite"),
        // The transport conformance suite as a library: any transport's tests run it (no test framework inside).
        .target(name: "CourierConformance", dependencies: ["Courier"], path: "Sources/CourierConformance"),
        // In-process broker with scripted faults and a test harness.
        .target(name: "CourierMemory", dependencies: ["Courier"], path: "Adapters/Memory"),
        // The `courier` command-line tool.
        .executableTarget(
            name: "CourierCLI",
            dependencies: ["Courier", "CourierMemory", "CourierSQLite", "CourierKafka", "CourierAMQP", "CourierChaos"],
            path: "Sources/courier"
        ),
        // Chaos scenarios: ledgers, Jepsen-style accounting, fault drivers and the report (`courier chaos`).
        .target(
            name: "CourierChaos",
            dependencies: ["Courier", "CourierSQLite", "CSQLite", "CourierMemory", "CourierKafka", "CourierAMQP"],
            path: "Sources/CourierChaos"
        ),
        .testTarget(name: "CourierChaosTests", dependencies: ["CourierChaos"]),
        // RabbitMQ over librabbitmq (rabbitmq-c 0.11): system library, a C wrapper for variadic amqp_login, the adapter.
        .systemLibrary(name: "CRabbitMQ", path: "Adapters/AMQP/CRabbitMQ", pkgConfig: "librabbitmq"),
        .target(name: "CRabbitMQLogin", dependencies: ["CRabbitMQ"], path: "Adapters/AMQP/CRabbitMQLogin"),
        .target(name: "CourierAMQP", dependencies: ["Courier", "CRabbitMQ", "CRabbitMQLogin"], path: "Adapters/AMQP/CourierAMQP"),
        // Benchmarks/AMQP: the Courier side of the CourierAMQP vs raw librabbitmq benchmark (run.sh).
        .executableTarget(name: "CourierAMQPBenchmark", dependencies: ["Courier", "CourierAMQP"], path: "Benchmarks/AMQP/CourierAMQPBenchmark"),
        // Kafka over librdkafka 2.0.2: system library (rdkafka.h, rdkafka_mock.h), the adapter, its tests on the mock cluster.
        .systemLibrary(name: "CRDKafka", path: "Adapters/Kafka/CRDKafka", pkgConfig: "rdkafka"),
        .target(name: "CourierKafka", dependencies: ["Courier", "CRDKafka"], path: "Adapters/Kafka/CourierKafka"),
        .testTarget(name: "CourierKafkaTests", dependencies: ["Courier", "CourierKafka", "CourierCLI", "CourierConformance"]),
        // Benchmarks/Kafka: the Courier side of the CourierKafka vs raw librdkafka benchmark (run.sh).
        .executableTarget(name: "CourierKafkaBenchmark", dependencies: ["Courier", "CourierKafka", "CRDKafka"], path: "Benchmarks/Kafka/CourierKafkaBenchmark"),
        .testTarget(name: "CourierTests", dependencies: ["Courier"]),
        .testTarget(name: "CourierMemoryTests", dependencies: ["Courier", "CourierMemory"]),
        .testTarget(name: "CourierProducerTests", dependencies: ["Courier", "CourierMemory", "CourierSQLite"]),
        .testTarget(name: "CourierConsumerTests", dependencies: ["Courier", "CourierMemory", "CourierSQLite"]),
        .testTarget(name: "CourierSQLiteTests", dependencies: ["Courier", "CourierSQLite"]),
        .testTarget(name: "CourierAMQPTests", dependencies: ["Courier", "CourierAMQP", "CourierConformance"]),
        .testTarget(name: "CourierCLITests", dependencies: ["CourierCLI", "Courier", "CourierMemory"]),
        .testTarget(name: "CourierConformanceTests", dependencies: ["Courier", "CourierMemory", "CourierConformance"]),
        .testTarget(
            name: "CourierObservabilityTests",
            dependencies: ["Courier", "CourierMemory", "CourierSQLite", "CourierCLI", "CourierKafka", "CourierAMQP"]
        ),
        // Samples/: small programs a newcomer copies from, built and tested with everything else.
        .target(name: "RabbitOrdersSample", dependencies: ["Courier", "CourierAMQP", "CourierMemory"], path: "Samples/RabbitOrders/Sources"),
        .testTarget(name: "RabbitOrdersSampleTests", dependencies: ["RabbitOrdersSample", "Courier", "CourierAMQP"], path: "Samples/RabbitOrders/Tests"),
        .target(name: "OrderHandlerSample", dependencies: ["Courier"], path: "Samples/OrderHandler/Sources"),
        .testTarget(
            name: "OrderHandlerSampleTests",
            dependencies: ["OrderHandlerSample", "Courier", "CourierMemory", "CourierSQLite"],
            path: "Samples/OrderHandler/Tests"
        ),
        .target(name: "PluginConformanceSample", dependencies: ["Courier"], path: "Samples/PluginConformance/Sources"),
        .testTarget(
            name: "PluginConformanceSampleTests",
            dependencies: ["PluginConformanceSample", "Courier", "CourierMemory", "CourierConformance"],
            path: "Samples/PluginConformance/Tests"
        ),
        // Samples/KafkaOrders: Kafka with failover, retries and a dead-letter topic, on the mock cluster.
        .target(name: "KafkaOrdersSample", dependencies: ["Courier", "CourierKafka", "CourierMemory"], path: "Samples/KafkaOrders/Sources"),
        .testTarget(
            name: "KafkaOrdersSampleTests",
            dependencies: ["KafkaOrdersSample", "Courier", "CourierKafka"],
            path: "Samples/KafkaOrders/Tests"
        ),
    ],
    swiftLanguageModes: [.v6]
)
