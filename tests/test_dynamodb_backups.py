"""DynamoDB on-demand backups and point-in-time-recovery settings through boto3.

Sources for the behaviour checked here:
- botocore's DynamoDB model (shapes, required members, constraints, ListBackups paginator);
- API reference: CreateBackup (a snapshot of the table's data and indexes, streams, provisioned
  capacity), RestoreTableFromBackup (tags, stream settings, TTL, auto scaling are set up again on
  the restored table), ListBackups (lower bound inclusive, upper bound exclusive),
  DescribeContinuousBackups (continuous backups ENABLED on every table; PITR DISABLED until
  enabled; RecoveryPeriodInDays 1-35, default 35);
- the backup ARN format ``table/NAME/backup/<14-digit epoch ms>-<8 hex>`` (AWS CLI reference,
  create-backup example ``.../table/MusicCollection/backup/01576616366715-b4e58d3a``);
- error codes and messages quoted from AWS in public threads: ``TableNotFoundException: Table not
  found: NAME`` (terraform-provider-aws#26577, ScoutSuite#1533), ``BackupNotFoundException: Backup
  not found: ARN`` (steampipe-plugin-aws#1913), ``ContinuousBackupsUnavailableException: Backups
  are being enabled for the table`` (aws-amplify/amplify-backend#1654).
"""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from fakes3.server import FakeAWS

PK = [{"AttributeName": "pk", "KeyType": "HASH"}]
PK_SK = [*PK, {"AttributeName": "sk", "KeyType": "RANGE"}]
THROUGHPUT = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 3}
ARN = re.compile(r"arn:aws:dynamodb:us-east-1:000000000000:table/(?P<table>[^/]+)/backup/\d{14}-[0-9a-f]{8}")


def _defs(**types: str) -> list[dict[str, str]]:
    return [{"AttributeName": n, "AttributeType": t} for n, t in types.items()]


def _simple(client: Any, name: str) -> None:
    client.create_table(TableName=name, KeySchema=PK, AttributeDefinitions=_defs(pk="S"),
                        BillingMode="PAY_PER_REQUEST")


def _indexed(client: Any, name: str) -> None:
    """A provisioned table with a GSI and an LSI."""
    client.create_table(
        TableName=name, KeySchema=PK_SK, AttributeDefinitions=_defs(pk="S", sk="S", g="S", l="N"),
        ProvisionedThroughput=THROUGHPUT,
        GlobalSecondaryIndexes=[{"IndexName": "by_g",
                                 "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "ALL"},
                                 "ProvisionedThroughput": THROUGHPUT}],
        LocalSecondaryIndexes=[{"IndexName": "by_l", "KeySchema": [PK[0], {"AttributeName": "l",
                                                                          "KeyType": "RANGE"}],
                                "Projection": {"ProjectionType": "KEYS_ONLY"}}])


def _item(pk: str, sk: str, **extra: str) -> dict[str, Any]:
    """An item of the indexed table (``l``, the LSI's sort key, is a Number)."""
    return {"pk": {"S": pk}, "sk": {"S": sk}, **{k: {"N" if k == "l" else "S": v} for k, v in extra.items()}}


def _scan(client: Any, table: str) -> list[dict[str, Any]]:
    return sorted(client.scan(TableName=table, ConsistentRead=True)["Items"], key=repr)


def _error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = excinfo.value.response["Error"]
    return err["Code"], err["Message"]


# -- create, describe, restore ------------------------------------------------------------------


def test_create_and_describe_backup(dynamodb_client: Any) -> None:
    _indexed(dynamodb_client, "orders")
    dynamodb_client.put_item(TableName="orders", Item=_item("a", "1", g="x", l="5"))
    dynamodb_client.update_time_to_live(TableName="orders",
                                        TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    before = time.time()
    details = dynamodb_client.create_backup(TableName="orders", BackupName="nightly")["BackupDetails"]
    match = ARN.fullmatch(details["BackupArn"])
    assert match and match["table"] == "orders"
    assert (details["BackupName"], details["BackupStatus"], details["BackupType"]) == \
        ("nightly", "AVAILABLE", "USER")
    assert details["BackupSizeBytes"] > 0
    assert before - 1 <= details["BackupCreationDateTime"].timestamp() <= time.time() + 1

    desc = dynamodb_client.describe_backup(BackupArn=details["BackupArn"])["BackupDescription"]
    assert desc["BackupDetails"] == details
    table = dynamodb_client.describe_table(TableName="orders")["Table"]
    source = desc["SourceTableDetails"]
    assert (source["TableName"], source["TableId"], source["TableArn"]) == \
        ("orders", table["TableId"], table["TableArn"])
    assert source["KeySchema"] == PK_SK and source["ItemCount"] == 1
    assert source["BillingMode"] == "PROVISIONED"
    assert source["ProvisionedThroughput"] == THROUGHPUT
    features = desc["SourceTableFeatureDetails"]
    assert [i["IndexName"] for i in features["GlobalSecondaryIndexes"]] == ["by_g"]
    assert features["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"] == THROUGHPUT
    assert features["LocalSecondaryIndexes"][0]["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert features["TimeToLiveDescription"] == {"TimeToLiveStatus": "ENABLED", "AttributeName": "exp"}


def test_restore_holds_exactly_the_snapshot(dynamodb_client: Any) -> None:
    _indexed(dynamodb_client, "src")
    for i in range(3):
        dynamodb_client.put_item(TableName="src", Item=_item("p", str(i), g=f"g{i}", l=str(i)))
    snapshot = _scan(dynamodb_client, "src")
    arn = dynamodb_client.create_backup(TableName="src", BackupName="bak1")["BackupDetails"]["BackupArn"]
    # Writes after the backup are not in it.
    dynamodb_client.put_item(TableName="src", Item=_item("p", "9", g="late", l="9"))
    dynamodb_client.delete_item(TableName="src", Key={"pk": {"S": "p"}, "sk": {"S": "0"}})
    dynamodb_client.put_item(TableName="src", Item=_item("p", "1", g="changed", l="1"))
    dynamodb_client.tag_resource(ResourceArn=dynamodb_client.describe_table(TableName="src")["Table"]["TableArn"],
                                 Tags=[{"Key": "team", "Value": "core"}])

    restored = dynamodb_client.restore_table_from_backup(TargetTableName="copy", BackupArn=arn)
    desc = restored["TableDescription"]
    assert desc["TableName"] == "copy" and desc["TableStatus"] == "ACTIVE"
    assert desc["RestoreSummary"]["SourceBackupArn"] == arn
    assert desc["RestoreSummary"]["SourceTableArn"].endswith(":table/src")
    assert desc["RestoreSummary"]["RestoreInProgress"] is False
    assert _scan(dynamodb_client, "copy") == snapshot
    table = dynamodb_client.describe_table(TableName="copy")["Table"]
    assert table["RestoreSummary"] == desc["RestoreSummary"]  # DescribeTable shows it too
    assert table["KeySchema"] == PK_SK and table["ItemCount"] == 3
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
    assert table["GlobalSecondaryIndexes"][0]["IndexName"] == "by_g"
    assert table["LocalSecondaryIndexes"][0]["IndexName"] == "by_l"
    # The indexes hold the snapshot too.
    found = dynamodb_client.query(TableName="copy", IndexName="by_g", KeyConditionExpression="g = :g",
                                  ExpressionAttributeValues={":g": {"S": "g1"}})["Items"]
    assert [i["sk"]["S"] for i in found] == ["1"]
    # Not kept by a restore: tags, TTL, point-in-time recovery.
    assert dynamodb_client.list_tags_of_resource(ResourceArn=table["TableArn"])["Tags"] == []
    ttl = dynamodb_client.describe_time_to_live(TableName="copy")["TimeToLiveDescription"]
    assert ttl["TimeToLiveStatus"] == "DISABLED"
    # Restored tables are ordinary tables: writable, and independent of the backup.
    dynamodb_client.put_item(TableName="copy", Item=_item("q", "0"))
    again = dynamodb_client.restore_table_from_backup(TargetTableName="copy2", BackupArn=arn)
    assert again["TableDescription"]["ItemCount"] == 3


def test_backups_outlive_their_table(dynamodb_client: Any) -> None:
    _simple(dynamodb_client, "gone")
    dynamodb_client.put_item(TableName="gone", Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    arn = dynamodb_client.create_backup(TableName="gone", BackupName="keep")["BackupDetails"]["BackupArn"]
    dynamodb_client.delete_table(TableName="gone")
    assert dynamodb_client.describe_backup(BackupArn=arn)["BackupDescription"]["BackupDetails"][
        "BackupStatus"] == "AVAILABLE"
    listed = dynamodb_client.list_backups(TableName="gone")["BackupSummaries"]
    assert [s["BackupArn"] for s in listed] == [arn]
    dynamodb_client.restore_table_from_backup(TargetTableName="gone", BackupArn=arn)
    assert _scan(dynamodb_client, "gone") == [{"pk": {"S": "a"}, "v": {"N": "1"}}]


def test_restore_overrides(dynamodb_client: Any) -> None:
    _indexed(dynamodb_client, "prov")
    dynamodb_client.put_item(TableName="prov", Item=_item("a", "1", g="x", l="1"))
    arn = dynamodb_client.create_backup(TableName="prov", BackupName="bak")["BackupDetails"]["BackupArn"]
    desc = dynamodb_client.restore_table_from_backup(
        TargetTableName="ondemand", BackupArn=arn, BillingModeOverride="PAY_PER_REQUEST",
        GlobalSecondaryIndexOverride=[], SSESpecificationOverride={"Enabled": True, "SSEType": "KMS"},
    )["TableDescription"]
    assert desc["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert "GlobalSecondaryIndexes" not in desc
    assert desc["LocalSecondaryIndexes"][0]["IndexName"] == "by_l"
    assert desc["SSEDescription"]["Status"] == "ENABLED"
    desc = dynamodb_client.restore_table_from_backup(
        TargetTableName="bigger", BackupArn=arn,
        ProvisionedThroughputOverride={"ReadCapacityUnits": 50, "WriteCapacityUnits": 40})["TableDescription"]
    assert desc["ProvisionedThroughput"]["ReadCapacityUnits"] == 50
    only_gsi = dynamodb_client.restore_table_from_backup(
        TargetTableName="only_gsi", BackupArn=arn, LocalSecondaryIndexOverride=[],
        GlobalSecondaryIndexOverride=[{"IndexName": "by_g",
                                       "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                       "Projection": {"ProjectionType": "KEYS_ONLY"}}])["TableDescription"]
    assert "LocalSecondaryIndexes" not in only_gsi
    gsi = only_gsi["GlobalSecondaryIndexes"][0]
    assert gsi["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert gsi["ProvisionedThroughput"]["WriteCapacityUnits"] == 3  # the backup's, when not overridden
    assert {a["AttributeName"] for a in only_gsi["AttributeDefinitions"]} == {"pk", "sk", "g"}
    with pytest.raises(ClientError) as excinfo:
        dynamodb_client.restore_table_from_backup(
            TargetTableName="bad", BackupArn=arn,
            LocalSecondaryIndexOverride=[{"IndexName": "nope", "KeySchema": PK_SK,
                                          "Projection": {"ProjectionType": "ALL"}}])
    code, message = _error(excinfo)
    assert code == "ValidationException" and "nope" in message
    with pytest.raises(ClientError) as excinfo:  # PAY_PER_REQUEST takes no throughput
        dynamodb_client.restore_table_from_backup(
            TargetTableName="bad", BackupArn=arn, BillingModeOverride="PAY_PER_REQUEST",
            GlobalSecondaryIndexOverride=[], ProvisionedThroughputOverride=THROUGHPUT)
    assert _error(excinfo)[0] == "ValidationException"
    assert "bad" not in dynamodb_client.list_tables()["TableNames"]


# -- errors ---------------------------------------------------------------------------------------


def test_errors(fakes3: FakeAWS, dynamodb_client: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        dynamodb_client.create_backup(TableName="missing", BackupName="bak")
    assert _error(excinfo) == ("TableNotFoundException", "Table not found: missing")
    missing = "arn:aws:dynamodb:us-east-1:000000000000:table/t/backup/01576616366715-b4e58d3a"
    for call in (lambda: dynamodb_client.describe_backup(BackupArn=missing),
                 lambda: dynamodb_client.delete_backup(BackupArn=missing),
                 lambda: dynamodb_client.restore_table_from_backup(TargetTableName="xyz", BackupArn=missing)):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert _error(excinfo) == ("BackupNotFoundException", f"Backup not found: {missing}")
    _simple(dynamodb_client, "taken")
    arn = dynamodb_client.create_backup(TableName="taken", BackupName="bak")["BackupDetails"]["BackupArn"]
    with pytest.raises(ClientError) as excinfo:
        dynamodb_client.restore_table_from_backup(TargetTableName="taken", BackupArn=arn)
    assert _error(excinfo) == ("TableAlreadyExistsException", "Table already exists: taken")
    unchecked = fakes3.client("dynamodb", config=Config(parameter_validation=False))
    with pytest.raises(ClientError) as excinfo:  # model constraints: the protocol layer's wording
        unchecked.create_backup(TableName="taken", BackupName="bad!")
    code, message = _error(excinfo)
    assert code == "ValidationException"
    assert message.startswith("1 validation error detected: Value 'bad!' at 'backupName' failed to satisfy")


def test_delete_backup(dynamodb_client: Any) -> None:
    _simple(dynamodb_client, "tab1")
    arn = dynamodb_client.create_backup(TableName="tab1", BackupName="bak")["BackupDetails"]["BackupArn"]
    deleted = dynamodb_client.delete_backup(BackupArn=arn)["BackupDescription"]
    assert deleted["BackupDetails"]["BackupStatus"] == "DELETED"
    assert deleted["SourceTableDetails"]["TableName"] == "tab1"
    with pytest.raises(dynamodb_client.exceptions.BackupNotFoundException):
        dynamodb_client.describe_backup(BackupArn=arn)
    with pytest.raises(dynamodb_client.exceptions.BackupNotFoundException):
        dynamodb_client.delete_backup(BackupArn=arn)
    assert dynamodb_client.list_backups()["BackupSummaries"] == []


def test_list_backups_pages_and_filters(dynamodb_client: Any) -> None:
    _simple(dynamodb_client, "one1")
    _simple(dynamodb_client, "two2")
    arns = [dynamodb_client.create_backup(TableName=t, BackupName=f"bak{i}")["BackupDetails"]["BackupArn"]
            for i, t in enumerate(["one1", "two2", "one1", "two2", "one1"])]
    everything = dynamodb_client.list_backups()["BackupSummaries"]
    assert sorted(s["BackupArn"] for s in everything) == sorted(arns)
    assert "LastEvaluatedBackupArn" not in dynamodb_client.list_backups()
    summary = everything[0]
    assert set(summary) >= {"TableName", "TableId", "TableArn", "BackupArn", "BackupName",
                            "BackupCreationDateTime", "BackupStatus", "BackupType", "BackupSizeBytes"}
    # Pages of two, resumed with ExclusiveStartBackupArn, hold every backup once, in order.
    seen: list[str] = []
    params: dict[str, Any] = {"Limit": 2}
    while True:
        page = dynamodb_client.list_backups(**params)
        assert len(page["BackupSummaries"]) <= 2
        seen += [s["BackupArn"] for s in page["BackupSummaries"]]
        if "LastEvaluatedBackupArn" not in page:
            break
        params["ExclusiveStartBackupArn"] = page["LastEvaluatedBackupArn"]
    assert seen == [s["BackupArn"] for s in everything]
    paginated = dynamodb_client.get_paginator("list_backups").paginate(PaginationConfig={"PageSize": 3})
    assert [s["BackupArn"] for page in paginated for s in page["BackupSummaries"]] == seen
    # Filters: table (by name or ARN), type, creation time (lower inclusive, upper exclusive).
    one = dynamodb_client.list_backups(TableName="one1")["BackupSummaries"]
    assert sorted(s["BackupArn"] for s in one) == sorted(arns[0::2])
    table_arn = one[0]["TableArn"]
    assert len(dynamodb_client.list_backups(TableName=table_arn)["BackupSummaries"]) == 3
    assert dynamodb_client.list_backups(BackupType="SYSTEM")["BackupSummaries"] == []
    assert len(dynamodb_client.list_backups(BackupType="ALL")["BackupSummaries"]) == 5
    first = everything[0]["BackupCreationDateTime"]
    last = everything[-1]["BackupCreationDateTime"]
    assert len(dynamodb_client.list_backups(TimeRangeLowerBound=first)["BackupSummaries"]) == 5
    later = dynamodb_client.list_backups(TimeRangeLowerBound=last.timestamp() + 1)["BackupSummaries"]
    assert later == []
    assert dynamodb_client.list_backups(TimeRangeUpperBound=first)["BackupSummaries"] == []


# -- point-in-time recovery settings --------------------------------------------------------------


def test_point_in_time_recovery_round_trip(dynamodb_client: Any) -> None:
    _simple(dynamodb_client, "pitr")
    desc = dynamodb_client.describe_continuous_backups(TableName="pitr")["ContinuousBackupsDescription"]
    assert desc == {"ContinuousBackupsStatus": "ENABLED",
                    "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"}}
    before = time.time()
    desc = dynamodb_client.update_continuous_backups(
        TableName="pitr", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True,
                                                            "RecoveryPeriodInDays": 7},
    )["ContinuousBackupsDescription"]
    recovery = desc["PointInTimeRecoveryDescription"]
    assert recovery["PointInTimeRecoveryStatus"] == "ENABLED" and recovery["RecoveryPeriodInDays"] == 7
    assert before - 1 <= recovery["EarliestRestorableDateTime"].timestamp() <= time.time() + 1
    assert recovery["LatestRestorableDateTime"] >= recovery["EarliestRestorableDateTime"]
    table_arn = dynamodb_client.describe_table(TableName="pitr")["Table"]["TableArn"]
    again = dynamodb_client.describe_continuous_backups(TableName=table_arn)["ContinuousBackupsDescription"]
    assert again["PointInTimeRecoveryDescription"]["RecoveryPeriodInDays"] == 7
    assert again["PointInTimeRecoveryDescription"]["EarliestRestorableDateTime"] == \
        recovery["EarliestRestorableDateTime"]
    default = dynamodb_client.update_continuous_backups(
        TableName="pitr", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    assert default["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"][
        "RecoveryPeriodInDays"] == 35
    off = dynamodb_client.update_continuous_backups(
        TableName="pitr", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False})
    assert off["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"] == \
        {"PointInTimeRecoveryStatus": "DISABLED"}
    # A restored table does not inherit PITR.
    dynamodb_client.update_continuous_backups(
        TableName="pitr", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    arn = dynamodb_client.create_backup(TableName="pitr", BackupName="bak")["BackupDetails"]["BackupArn"]
    dynamodb_client.restore_table_from_backup(TargetTableName="pitr2", BackupArn=arn)
    assert dynamodb_client.describe_continuous_backups(TableName="pitr2")["ContinuousBackupsDescription"][
        "PointInTimeRecoveryDescription"] == {"PointInTimeRecoveryStatus": "DISABLED"}


def test_point_in_time_recovery_errors(fakes3: FakeAWS, dynamodb_client: Any) -> None:
    enable = {"PointInTimeRecoveryEnabled": True}
    for call in (lambda: dynamodb_client.describe_continuous_backups(TableName="nope"),
                 lambda: dynamodb_client.update_continuous_backups(
                     TableName="nope", PointInTimeRecoverySpecification=enable)):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert _error(excinfo) == ("TableNotFoundException", "Table not found: nope")
    _simple(dynamodb_client, "days")
    unchecked = fakes3.client("dynamodb", config=Config(parameter_validation=False))
    with pytest.raises(ClientError) as excinfo:
        unchecked.update_continuous_backups(
            TableName="days", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True,
                                                                "RecoveryPeriodInDays": 36})
    code, message = _error(excinfo)
    assert code == "ValidationException" and message.startswith("1 validation error detected")
    with pytest.raises(dynamodb_client.exceptions.ClientError) as excinfo:
        dynamodb_client.restore_table_to_point_in_time(SourceTableName="days", TargetTableName="xyz",
                                                       UseLatestRestorableTime=True)
    assert "RestoreTableToPointInTime" in _error(excinfo)[1]


# -- the table delay ------------------------------------------------------------------------------


class SteppedClock:
    """Real time plus an offset that a test moves forward (signatures stay valid)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


def test_backups_and_restores_take_the_table_delay() -> None:
    clock = SteppedClock()
    with FakeAWS(imds=False, clock=clock, dynamodb_table_delay=30) as aws:
        client = aws.client("dynamodb")
        _simple(client, "slow")
        with pytest.raises(ClientError) as excinfo:
            client.create_backup(TableName="slow", BackupName="bak")
        assert _error(excinfo)[0] == "TableInUseException"
        with pytest.raises(ClientError) as excinfo:
            client.update_continuous_backups(
                TableName="slow", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
        assert _error(excinfo) == ("ContinuousBackupsUnavailableException",
                                   "Backups are being enabled for the table: slow. Please retry later")
        assert client.describe_continuous_backups(TableName="slow")["ContinuousBackupsDescription"][
            "ContinuousBackupsStatus"] == "ENABLED"
        clock.offset += 31
        client.put_item(TableName="slow", Item={"pk": {"S": "a"}})
        details = client.create_backup(TableName="slow", BackupName="bak")["BackupDetails"]
        assert details["BackupStatus"] == "CREATING"
        with pytest.raises(client.exceptions.BackupInUseException):
            client.restore_table_from_backup(TargetTableName="copy", BackupArn=details["BackupArn"])
        clock.offset += 31
        assert client.describe_backup(BackupArn=details["BackupArn"])["BackupDescription"][
            "BackupDetails"]["BackupStatus"] == "AVAILABLE"
        desc = client.restore_table_from_backup(TargetTableName="copy", BackupArn=details["BackupArn"])
        assert desc["TableDescription"]["TableStatus"] == "CREATING"
        assert desc["TableDescription"]["RestoreSummary"]["RestoreInProgress"] is True
        with pytest.raises(ClientError) as excinfo:
            client.restore_table_from_backup(TargetTableName="copy", BackupArn=details["BackupArn"])
        assert _error(excinfo)[0] == "TableInUseException"
        clock.offset += 31
        assert client.describe_table(TableName="copy")["Table"]["TableStatus"] == "ACTIVE"
        assert client.get_item(TableName="copy", Key={"pk": {"S": "a"}})["Item"] == {"pk": {"S": "a"}}


# -- a data dir -----------------------------------------------------------------------------------


def test_backups_and_pitr_survive_a_restart(tmp_path: Path) -> None:
    with FakeAWS(data_dir=tmp_path, imds=False) as aws:
        client = aws.client("dynamodb")
        _indexed(client, "src")
        items = [_item("p", str(i), g="g", l=str(i), blob="x" * i) for i in range(5)]
        for item in items:
            client.put_item(TableName="src", Item=item)
        client.put_item(TableName="src", Item={**items[0], "bin": {"B": b"\x00\xff"}})
        snapshot = _scan(client, "src")
        arn = client.create_backup(TableName="src", BackupName="kept")["BackupDetails"]["BackupArn"]
        dropped = client.create_backup(TableName="src", BackupName="dropped")["BackupDetails"]["BackupArn"]
        client.delete_backup(BackupArn=dropped)
        client.delete_table(TableName="src")
        _simple(client, "settings")
        client.update_continuous_backups(TableName="settings", PointInTimeRecoverySpecification={
            "PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 3})
        described = client.describe_backup(BackupArn=arn)["BackupDescription"]
        client.restore_table_from_backup(TargetTableName="restored", BackupArn=arn)
    with FakeAWS(data_dir=tmp_path, imds=False) as aws:
        client = aws.client("dynamodb")
        assert [s["BackupArn"] for s in client.list_backups()["BackupSummaries"]] == [arn]
        assert client.describe_backup(BackupArn=arn)["BackupDescription"] == described
        recovery = client.describe_continuous_backups(TableName="settings")["ContinuousBackupsDescription"][
            "PointInTimeRecoveryDescription"]
        assert (recovery["PointInTimeRecoveryStatus"], recovery["RecoveryPeriodInDays"]) == ("ENABLED", 3)
        assert _scan(client, "restored") == snapshot
        client.restore_table_from_backup(TargetTableName="again", BackupArn=arn)
        assert _scan(client, "again") == snapshot
        assert client.query(TableName="again", IndexName="by_g", KeyConditionExpression="g = :g",
                            ExpressionAttributeValues={":g": {"S": "g"}})["Count"] == 5


# -- concurrency ----------------------------------------------------------------------------------


def test_backup_under_concurrent_writes_holds_a_state_that_existed(dynamodb_client: Any) -> None:
    """One writer appends items 0, 1, 2, ... in order; another moves units between two items in
    transactions (their sum stays 100). A backup taken meanwhile holds a prefix of the appends
    and a sum of 100: a state that existed, not a mix of two."""
    _simple(dynamodb_client, "busy")
    dynamodb_client.put_item(TableName="busy", Item={"pk": {"S": "a"}, "n": {"N": "100"}})
    dynamodb_client.put_item(TableName="busy", Item={"pk": {"S": "b"}, "n": {"N": "0"}})
    start = threading.Barrier(3)
    errors: list[BaseException] = []

    def appender() -> None:
        try:
            start.wait()
            for i in range(60):
                dynamodb_client.put_item(TableName="busy", Item={"pk": {"S": f"seq{i:03d}"}})
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def mover() -> None:
        def update(pk: str, delta: str) -> dict[str, Any]:
            return {"Update": {"TableName": "busy", "Key": {"pk": {"S": pk}}, "UpdateExpression": "ADD n :d",
                               "ExpressionAttributeValues": {":d": {"N": delta}}}}
        try:
            start.wait()
            for _ in range(60):
                dynamodb_client.transact_write_items(TransactItems=[update("a", "-1"), update("b", "1")])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=appender), threading.Thread(target=mover)]
    for thread in threads:
        thread.start()
    start.wait()
    arns = [dynamodb_client.create_backup(TableName="busy", BackupName=f"bak{i}")["BackupDetails"][
        "BackupArn"] for i in range(3)]
    for thread in threads:
        thread.join()
    assert errors == []
    for i, arn in enumerate(arns):
        dynamodb_client.restore_table_from_backup(TargetTableName=f"busy{i}", BackupArn=arn)
        items = {item["pk"]["S"]: item for item in _scan(dynamodb_client, f"busy{i}")}
        appended = sorted(k for k in items if k.startswith("seq"))
        assert appended == [f"seq{j:03d}" for j in range(len(appended))]
        assert int(items["a"]["n"]["N"]) + int(items["b"]["n"]["N"]) == 100
