"""Which Kafka errors the sink retries, leaves to the next owner, or stops on."""

from __future__ import annotations

from confluent_kafka import KafkaError

from hazardwatch.kafka_errors import Outcome, classify


def test_errors_of_a_live_cluster_are_retried() -> None:
    for code in (KafkaError._WAIT_COORD, KafkaError.NOT_COORDINATOR,
                 KafkaError.COORDINATOR_LOAD_IN_PROGRESS, KafkaError.COORDINATOR_NOT_AVAILABLE,
                 KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN, KafkaError._TIMED_OUT,
                 KafkaError.REQUEST_TIMED_OUT):
        assert classify(KafkaError(code)) is Outcome.RETRY, code


def test_nothing_to_commit_and_a_group_that_moved_on_are_not_errors() -> None:
    assert classify(KafkaError(KafkaError._NO_OFFSET)) is Outcome.NOTHING
    for code in (KafkaError.ILLEGAL_GENERATION, KafkaError.UNKNOWN_MEMBER_ID,
                 KafkaError.REBALANCE_IN_PROGRESS):
        assert classify(KafkaError(code)) is Outcome.NOT_OURS, code


def test_fatal_errors_and_refused_authorisation_stop() -> None:
    assert classify(KafkaError(KafkaError._WAIT_COORD, fatal=True)) is Outcome.FATAL
    for code in (KafkaError.GROUP_AUTHORIZATION_FAILED, KafkaError.TOPIC_AUTHORIZATION_FAILED,
                 KafkaError.SASL_AUTHENTICATION_FAILED):
        assert classify(KafkaError(code)) is Outcome.FATAL, code
