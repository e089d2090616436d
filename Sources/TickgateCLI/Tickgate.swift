import ArgumentParser

@main
struct Tickgate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tickgate",
        abstract: "Real-time crypto price streaming: feed adapters → Kafka → gRPC gateway → clients.",
        subcommands: [
            DemoCommand.self, BrokerCommand.self, IngestCommand.self, ServeCommand.self, SubscribeCommand.self, BenchCommand.self,
            KeysCommand.self,
        ])
}
