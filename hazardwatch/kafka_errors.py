"""What a Kafka client error means for a consumer that commits its own offsets.

Every error of a live cluster is retried (a coordinator moving or loading, a broker away, a
request timing out); an error that says the partitions are no longer ours ends the commit (the
next owner re-reads from the last committed offset); only a fatal error or a refused
authorisation ends the process, with a clear message.
"""

from __future__ import annotations

from enum import Enum

from confluent_kafka import KafkaError


class Outcome(Enum):
    """What to do after a failed Kafka call."""

    RETRY = "retry"  # the cluster is alive or coming back: wait and try again
    NOTHING = "nothing"  # there was nothing to commit
    NOT_OURS = "not_ours"  # the group moved on: the partitions' next owner re-reads them
    FATAL = "fatal"  # retrying cannot help: stop with the reason


_NOT_OURS = frozenset({
    KafkaError.ILLEGAL_GENERATION, KafkaError.UNKNOWN_MEMBER_ID,
    KafkaError.REBALANCE_IN_PROGRESS, KafkaError.FENCED_INSTANCE_ID,
    KafkaError._ASSIGNMENT_LOST,
})
_FATAL = frozenset({
    KafkaError.GROUP_AUTHORIZATION_FAILED, KafkaError.TOPIC_AUTHORIZATION_FAILED,
    KafkaError.CLUSTER_AUTHORIZATION_FAILED, KafkaError.SASL_AUTHENTICATION_FAILED,
    KafkaError._AUTHENTICATION, KafkaError._INVALID_ARG, KafkaError._FATAL,
})


def classify(err: KafkaError) -> Outcome:
    """The outcome of a failed commit or poll with this error."""
    if err.fatal() or err.code() in _FATAL:
        return Outcome.FATAL
    if err.code() == KafkaError._NO_OFFSET:
        return Outcome.NOTHING
    if err.code() in _NOT_OURS:
        return Outcome.NOT_OURS
    return Outcome.RETRY
