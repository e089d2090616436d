public import Logging
public import TickgateKafka
import TickgateModel

/// The dedicated thread that takes ticks from a ``BoundedTickQueue`` and
/// publishes them: the only place a feed calls into librdkafka (which may
/// block while its own queue is full), never Swift's cooperative pool.
public final class QueuePublisher: @unchecked Sendable {
    private let thread: DedicatedThread
    private let box = Box()

    private final class Box: @unchecked Sendable {
        var published = 0
        var error: KafkaError? = nil
    }

    public init(queue: BoundedTickQueue, publisher: TickPublisher, logger: Logger) {
        let box = self.box
        thread = DedicatedThread(name: "feed-publish") {
            while let tick = queue.take() {
                do {
                    try publisher.publish(tick)
                    box.published += 1
                } catch {
                    logger.error("cannot publish to Kafka: \(error)")
                    box.error = (error as? KafkaError) ?? .produce("\(error)")
                    // Keep draining so the feed is never stuck on a full queue.
                }
            }
        }
    }

    /// After the queue was closed: waits for the thread, then reports.
    public func finish() -> (published: Int, error: KafkaError?) {
        thread.join()
        return (box.published, box.error)
    }
}
