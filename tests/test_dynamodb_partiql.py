"""DynamoDB PartiQL through boto3: ExecuteStatement, BatchExecuteStatement, ExecuteTransaction.

Sources for the behaviour asserted here:
- DynamoDB Developer Guide, "PartiQL select/insert/update/delete statements for DynamoDB"
  (ql-reference.*.html): SELECT with an equality or IN on the partition key is a query, else a full
  scan; UPDATE of a missing item is ConditionalCheckFailedException; DELETE of a missing item
  succeeds, and fails its WHERE's extra condition only when the item exists; RETURNING (ALL|MODIFIED)
  (OLD|NEW) * on UPDATE, only ALL OLD * on DELETE.
- The API reference / botocore's service model: Limit, NextToken, per-statement Error in
  BatchExecuteStatement, CancellationReasons in ExecuteTransaction, ClientRequestToken.
- DynamoDB Local's messages (eznix86/dynamodb-local-decompiled, ValidationExceptionMessages.java,
  BatchExecuteStatementFunction.java, ExecuteTransactionFunction.java, SelectStatementTranslator.java)
  and the facts xo/dbimp recorded against DynamoDB Local 3.2/3.3 (projection names, Limit counting
  items read, a NextToken of another statement, parameters).
- The "Expected data manipulation" syntax error: nubo-db/dynoxide PR #149, checked against DynamoDB.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from fakes3.faults import hold_action
from fakes3.server import FakeAWS

WELL_FORMED = "Statement wasn't well formed, can't be processed: "


@pytest.fixture
def table(dynamodb_client: Any) -> str:
    dynamodb_client.create_table(
        TableName="music",
        KeySchema=[{"AttributeName": "Artist", "KeyType": "HASH"},
                   {"AttributeName": "SongTitle", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "Artist", "AttributeType": "S"},
                              {"AttributeName": "SongTitle", "AttributeType": "S"},
                              {"AttributeName": "Genre", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[{"IndexName": "by-genre",
                                 "KeySchema": [{"AttributeName": "Genre", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "ALL"}}],
        BillingMode="PAY_PER_REQUEST")
    return "music"


@pytest.fixture
def ddb(dynamodb_client: Any) -> Any:
    return dynamodb_client


def run(client: Any, statement: str, *parameters: dict[str, Any], **extra: Any) -> dict[str, Any]:
    if parameters:
        extra["Parameters"] = list(parameters)
    return client.execute_statement(Statement=statement, **extra)


def error_of(client: Any, statement: str, *parameters: dict[str, Any], **extra: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as info:
        run(client, statement, *parameters, **extra)
    err = info.value.response["Error"]
    return err["Code"], err["Message"]


def song(client: Any, artist: str, title: str, **attributes: str) -> None:
    values = "".join(f", '{k}': {v}" for k, v in attributes.items())
    run(client, f"INSERT INTO \"music\" VALUE {{'Artist': '{artist}', 'SongTitle': '{title}'{values}}}")


def test_insert_then_select_every_literal_type(ddb: Any, table: str) -> None:
    run(ddb, "INSERT INTO \"music\" VALUE {'Artist': 'Acme', 'SongTitle': 'PartiQL Rocks', "
                         "'n': 1.50, 'neg': -2, 'ok': true, 'z': NULL, 'l': [1, 'a'], 'm': {'k': 'v'}, "
                         "'ss': <<'x', 'y'>>, 'ns': <<1, 2>>, 'b': ?}", {"B": b"\x00\xff"})
    items = run(ddb, "SELECT * FROM \"music\" WHERE \"Artist\" = 'Acme'")["Items"]
    assert len(items) == 1
    item = items[0]
    assert item["n"] == {"N": "1.5"} and item["neg"] == {"N": "-2"}
    assert item["ok"] == {"BOOL": True} and item["z"] == {"NULL": True}
    assert item["l"] == {"L": [{"N": "1"}, {"S": "a"}]} and item["m"] == {"M": {"k": {"S": "v"}}}
    assert sorted(item["ss"]["SS"]) == ["x", "y"] and sorted(item["ns"]["NS"]) == ["1", "2"]
    assert item["b"] == {"B": b"\x00\xff"}
    # The native API sees the same item.
    got = ddb.get_item(TableName=table, Key={"Artist": {"S": "Acme"},
                                                         "SongTitle": {"S": "PartiQL Rocks"}})
    assert got["Item"] == item


def test_insert_of_an_existing_key_is_a_duplicate(ddb: Any, table: str) -> None:
    song(ddb, "Acme", "One")
    assert error_of(ddb, "INSERT INTO music VALUE {'Artist': 'Acme', 'SongTitle': 'One'}") == (
        "DuplicateItemException", "Duplicate primary key exists in table")


def test_insert_checks_the_key(ddb: Any, table: str) -> None:
    assert error_of(ddb, "INSERT INTO music VALUE {'Artist': 'Acme'}") == (
        "ValidationException", "Key attribute should be present in the item: Key SongTitle")
    assert error_of(ddb, "INSERT INTO music VALUE {'Artist': 'Acme', 'SongTitle': 1}") == (
        "ValidationException", "Key attribute's data type should match its data type in table's schema: "
                               "Key SongTitle")


def test_insert_of_a_too_large_item_fails_as_put_item_does(ddb: Any, table: str) -> None:
    code, message = error_of(ddb, "INSERT INTO music VALUE {'Artist': 'a', 'SongTitle': 'b', "
                                              "'big': ?}", {"S": "x" * (400 * 1024)})
    assert code == "ValidationException" and "Item size has exceeded the maximum allowed size" in message


def test_select_on_the_partition_key_is_a_query_in_sort_key_order(ddb: Any, table: str) -> None:
    for title in ("c", "a", "b"):
        song(ddb, "Acme", title, plays=str(ord(title)))
    song(ddb, "Other", "a")
    items = run(ddb, "SELECT SongTitle FROM music WHERE Artist = ?", {"S": "Acme"})["Items"]
    assert items == [{"SongTitle": {"S": t}} for t in ("a", "b", "c")]
    items = run(ddb, "SELECT SongTitle FROM music WHERE Artist = 'Acme' ORDER BY SongTitle DESC")
    assert [i["SongTitle"]["S"] for i in items["Items"]] == ["c", "b", "a"]
    items = run(ddb, "SELECT SongTitle FROM music WHERE Artist IN ['Acme', 'Other'] "
                                 "AND SongTitle > 'a'")["Items"]
    assert [i["SongTitle"]["S"] for i in items] == ["b", "c"]
    items = run(ddb, "select SongTitle from music where Artist = 'Acme' or Artist = 'Other'")
    assert len(items["Items"]) == 4


def test_where_operators(ddb: Any, table: str) -> None:
    run(ddb, "INSERT INTO music VALUE {'Artist': 'A', 'SongTitle': 's1', 'n': 5, 'tags': ['x', 'y'], "
                         "'name': 'hello'}")
    run(ddb, "INSERT INTO music VALUE {'Artist': 'A', 'SongTitle': 's2', 'n': 10, 'name': 'world'}")
    run(ddb, "INSERT INTO music VALUE {'Artist': 'B', 'SongTitle': 's3'}")

    def titles(where: str) -> list[str]:
        items = run(ddb, f"SELECT SongTitle FROM music WHERE {where}")["Items"]
        return sorted(i["SongTitle"]["S"] for i in items)

    assert titles("n BETWEEN 4 AND 6") == ["s1"]
    assert titles("n IN [10, 11]") == ["s2"]
    assert titles("n <> 5") == ["s2", "s3"]
    assert titles("n >= 5 AND n < 10") == ["s1"]
    assert titles("begins_with(\"name\", 'he')") == ["s1"]
    assert titles("contains(tags, 'y')") == ["s1"]
    assert titles("size(tags) = 2") == ["s1"]
    assert titles("attribute_exists(n)") == ["s1", "s2"]
    assert titles("n IS MISSING") == ["s3"]
    assert titles("n IS NOT MISSING AND NOT (n = 5)") == ["s2"]
    assert titles("(n = 5 OR n = 10) AND Artist = 'A'") == ["s1", "s2"]
    assert titles("\"SongTitle\" = 's3' OR attribute_not_exists(n)") == ["s3"]


def test_projection_names_nested_paths_by_their_last_name(ddb: Any, table: str) -> None:
    run(ddb, "INSERT INTO music VALUE {'Artist': 'A', 'SongTitle': 's', 'm': {'k': [1, 2], 'z': 'q'}, "
                         "'l': ['first']}")
    items = run(ddb, "SELECT m.k[1], l[0], m.z, absent FROM music WHERE Artist = 'A'")["Items"]
    assert items == [{"k[1]": {"N": "2"}, "l[0]": {"S": "first"}, "z": {"S": "q"}}]
    assert error_of(ddb, "SELECT m.z, z FROM music") == (
        "ValidationException", "Duplicate identifiers in select clause: z")
    assert error_of(ddb, "SELECT *, a FROM music") == (
        "ValidationException", "Other attributes should not be present in the projection when '*' is used.")


def test_scan_pages_with_limit_and_next_token(ddb: Any, table: str) -> None:
    for i in range(7):
        song(ddb, f"artist{i}", "t", n=str(i))
    seen: list[str] = []
    pages = 0
    token = None
    while True:
        extra: dict[str, Any] = {"Limit": 3}
        if token:
            extra["NextToken"] = token
        page = run(ddb, "SELECT Artist FROM music WHERE n >= 0", **extra)
        pages += 1
        seen.extend(i["Artist"]["S"] for i in page["Items"])
        token = page.get("NextToken")
        if token is None:
            break
        assert len(page["Items"]) == 3 and "LastEvaluatedKey" in page
    assert sorted(seen) == [f"artist{i}" for i in range(7)] and pages == 3
    # Limit counts the items read, not the items matched (an empty page can still have a token).
    page = run(ddb, "SELECT Artist FROM music WHERE n > 100", Limit=2)
    assert page["Items"] == [] and "NextToken" in page
    other = run(ddb, "SELECT * FROM music", Limit=1)["NextToken"]
    assert error_of(ddb, "SELECT Artist FROM music WHERE n > 100", NextToken=other) == (
        "ValidationException", "The provided starting key is invalid")
    assert error_of(ddb, "SELECT * FROM music", NextToken="garbage!") == (
        "ValidationException", "Invalid NextToken")


def test_query_pages_across_partitions(ddb: Any, table: str) -> None:
    for artist in ("x", "y"):
        for title in ("1", "2", "3"):
            song(ddb, artist, title)
    titles, token = [], None
    while True:
        extra: dict[str, Any] = {"Limit": 2, **({"NextToken": token} if token else {})}
        page = run(ddb, "SELECT Artist, SongTitle FROM music WHERE Artist IN ['x', 'y']", **extra)
        titles += [(i["Artist"]["S"], i["SongTitle"]["S"]) for i in page["Items"]]
        token = page.get("NextToken")
        if token is None:
            break
    assert titles == [(a, t) for a in ("x", "y") for t in ("1", "2", "3")]


def test_select_from_an_index(ddb: Any, table: str) -> None:
    song(ddb, "A", "1", Genre="'rock'")
    song(ddb, "B", "2", Genre="'rock'")
    song(ddb, "C", "3", Genre="'jazz'")
    items = run(ddb, "SELECT Artist FROM \"music\".\"by-genre\" WHERE Genre = 'rock'")["Items"]
    assert sorted(i["Artist"]["S"] for i in items) == ["A", "B"]
    assert error_of(ddb, "SELECT * FROM \"music\".\"by-genre\" WHERE Genre = 'rock'",
                    ConsistentRead=True)[0] == "ValidationException"


def test_order_by_rules(ddb: Any, table: str) -> None:
    assert error_of(ddb, "SELECT * FROM music ORDER BY SongTitle") == (
        "ValidationException", "Must have WHERE clause in the statement when using ORDER BY clause.")
    assert error_of(ddb, "SELECT * FROM music WHERE n = 1 ORDER BY SongTitle") == (
        "ValidationException", "Must have at least one non-optional hash key condition in WHERE clause when "
                               "using ORDER BY clause.")
    assert error_of(ddb, "SELECT * FROM music WHERE Artist = 'a' ORDER BY n") == (
        "ValidationException", "Variable reference n in ORDER BY clause must be part of the primary key")


def test_update_set_remove_and_returning(ddb: Any, table: str) -> None:
    run(ddb, "INSERT INTO music VALUE {'Artist': 'A', 'SongTitle': 's', 'n': 1, 'l': [1], "
                         "'tags': <<'x'>>, 'gone': 'soon'}")
    where = "WHERE Artist = 'A' AND SongTitle = 's'"
    out = run(ddb, f"UPDATE music SET n = n + 1 SET l = list_append(l, [2]) REMOVE gone {where}")
    assert out["Items"] == []
    out = run(ddb, f"UPDATE music SET tags = set_add(tags, <<'y'>>) {where} RETURNING MODIFIED NEW *")
    assert sorted(out["Items"][0]["tags"]["SS"]) == ["x", "y"] and list(out["Items"][0]) == ["tags"]
    out = run(ddb, f"UPDATE music SET n = 10 {where} RETURNING MODIFIED OLD *")
    assert out["Items"] == [{"n": {"N": "2"}}]
    out = run(ddb, f"UPDATE music SET tags = set_delete(tags, <<'x'>>) {where} RETURNING ALL NEW *")
    item = out["Items"][0]
    assert item["l"] == {"L": [{"N": "1"}, {"N": "2"}]} and item["tags"] == {"SS": ["y"]}
    assert "gone" not in item and item["n"] == {"N": "10"}
    out = run(ddb, f"UPDATE music SET n = ? {where} RETURNING ALL OLD *", {"N": "11"})
    assert out["Items"][0]["n"] == {"N": "10"}


def test_update_conditions(ddb: Any, table: str) -> None:
    song(ddb, "A", "s", n="1")
    assert error_of(ddb, "UPDATE music SET n = 2 WHERE Artist = 'A' AND SongTitle = 'missing'") == (
        "ConditionalCheckFailedException", "The conditional request failed")
    with pytest.raises(ClientError) as info:
        run(ddb, "UPDATE music SET n = 2 WHERE Artist = 'A' AND SongTitle = 's' AND n = 5",
            ReturnValuesOnConditionCheckFailure="ALL_OLD")
    assert info.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert info.value.response["Item"]["n"] == {"N": "1"}
    run(ddb, "UPDATE music SET n = 2 WHERE Artist = 'A' AND SongTitle = 's' AND n = 1")
    assert error_of(ddb, "UPDATE music SET n = 2 WHERE Artist = 'A'") == (
        "ValidationException", "Where clause does not contain a mandatory equality on all key attributes")
    assert error_of(ddb, "UPDATE music SET n = 2 WHERE Artist = 'A' OR SongTitle = 's'")[1] == (
        "Where clause does not contain a mandatory equality on all key attributes")
    code, message = error_of(ddb, "UPDATE music SET SongTitle = 'x' WHERE Artist = 'A' AND "
                                              "SongTitle = 's'")
    assert code == "ValidationException" and "This attribute is part of the key" in message
    code, message = error_of(ddb, "UPDATE music SET n = absent + 1 WHERE Artist = 'A' AND "
                                              "SongTitle = 's'")
    assert message == "The provided expression refers to an attribute that does not exist in the item"


def test_delete(ddb: Any, table: str) -> None:
    song(ddb, "A", "s", n="1")
    # A missing item: success, whatever else the WHERE says.
    assert run(ddb, "DELETE FROM music WHERE Artist = 'A' AND SongTitle = 'x' AND n = 9")["Items"] == []
    assert error_of(ddb, "DELETE FROM music WHERE Artist = 'A' AND SongTitle = 's' AND n = 9") == (
        "ConditionalCheckFailedException", "The conditional request failed")
    assert error_of(ddb, "DELETE FROM music WHERE Artist = 'A' AND SongTitle = 's' "
                                     "RETURNING ALL NEW *") == (
        "ValidationException", "Invalid returning clause: RETURNING ALL NEW *. Only RETURNING ALL OLD * is "
                               "allowed in DELETE statements.")
    out = run(ddb, "DELETE FROM music WHERE Artist = 'A' AND SongTitle = 's' RETURNING ALL OLD *")
    assert out["Items"] == [{"Artist": {"S": "A"}, "SongTitle": {"S": "s"}, "n": {"N": "1"}}]
    assert run(ddb, "SELECT * FROM music")["Items"] == []


def test_errors(ddb: Any, table: str) -> None:
    assert error_of(ddb, "SELEC * FROM music") == ("ValidationException",
                                                              WELL_FORMED + "Expected data manipulation")
    code, message = error_of(ddb, "SELECT * FROM music WHERE")
    assert code == "ValidationException" and message.startswith(WELL_FORMED)
    assert error_of(ddb, "SELECT * FROM music WHERE value = 1") == (
        "ValidationException", WELL_FORMED + "Unexpected keyword")
    assert run(ddb, "SELECT * FROM music WHERE \"value\" = 1 -- a comment")["Items"] == []
    assert error_of(ddb, "SELECT * FROM nope")[0] == "ResourceNotFoundException"
    assert error_of(ddb, "SELECT * FROM music WHERE Artist = ? AND n = ?", {"S": "a"}) == (
        "ValidationException", "Number of parameters in request and statement don't match.")
    assert error_of(ddb, "SELECT * FROM music WHERE Artist = 'a' LIMIT 1") == (
        "ValidationException", "Unsupported clause: LIMIT")
    assert error_of(ddb, "INSERT INTO music VALUE {'Artist': 'a', 'SongTitle': 'b', 's': <<>>}") == (
        "ValidationException", "Empty bags are not supported")
    assert error_of(ddb, "EXISTS(SELECT * FROM music WHERE Artist = 'a')") == (
        "ValidationException", "EXISTS can only be used in ExecuteTransaction write requests.")


def test_reads_and_writes_report_consumed_capacity(ddb: Any, table: str) -> None:
    out = run(ddb, "INSERT INTO music VALUE {'Artist': 'a', 'SongTitle': 'b'}",
              ReturnConsumedCapacity="TOTAL")
    assert out["ConsumedCapacity"] == {"TableName": "music", "CapacityUnits": 1.0, "WriteCapacityUnits": 1.0}
    out = run(ddb, "SELECT * FROM music WHERE Artist = 'a'", ReturnConsumedCapacity="TOTAL",
              ConsistentRead=True)
    assert out["ConsumedCapacity"]["CapacityUnits"] == 1.0


def test_batch_reads(ddb: Any, table: str) -> None:
    song(ddb, "A", "1", n="7")
    responses = ddb.batch_execute_statement(Statements=[
        {"Statement": "SELECT n FROM music WHERE Artist = ? AND SongTitle = ?",
         "Parameters": [{"S": "A"}, {"S": "1"}]},
        {"Statement": "SELECT * FROM music WHERE Artist = 'A' AND SongTitle = 'missing'"},
        {"Statement": "SELECT * FROM music WHERE Artist = 'A'"},
        {"Statement": "SELECT * FROM nope WHERE Artist = 'A' AND SongTitle = '1'"},
        {"Statement": "SELEC x"},
    ])["Responses"]
    assert responses[0] == {"TableName": "music", "Item": {"n": {"N": "7"}}}
    assert responses[1] == {"TableName": "music"}
    assert responses[2]["Error"] == {"Code": "ValidationError",
                                     "Message": "Only single item select is supported"}
    assert responses[3]["Error"]["Code"] == "ResourceNotFound"
    assert responses[4]["Error"] == {"Code": "ValidationError",
                                     "Message": WELL_FORMED + "Expected data manipulation"}


def test_batch_writes_fail_one_by_one(ddb: Any, table: str) -> None:
    song(ddb, "A", "1", n="1")
    responses = ddb.batch_execute_statement(Statements=[
        {"Statement": "INSERT INTO music VALUE {'Artist': 'A', 'SongTitle': '2'}"},
        {"Statement": "INSERT INTO music VALUE {'Artist': 'A', 'SongTitle': '1'}"},
        {"Statement": "UPDATE music SET n = 5 WHERE Artist = 'A' AND SongTitle = '1' AND n = 3",
         "ReturnValuesOnConditionCheckFailure": "ALL_OLD"},
        {"Statement": "DELETE FROM music WHERE Artist = 'A' AND SongTitle = '2'"},
    ])["Responses"]
    assert responses[0] == {"TableName": "music"} and responses[3] == {"TableName": "music"}
    assert responses[1]["Error"] == {"Code": "DuplicateItem",
                                     "Message": "Duplicate primary key exists in table"}
    assert responses[2]["Error"]["Code"] == "ConditionalCheckFailed"
    assert responses[2]["Error"]["Item"]["n"] == {"N": "1"}
    assert len(run(ddb, "SELECT * FROM music")["Items"]) == 1
    with pytest.raises(ClientError) as info:
        ddb.batch_execute_statement(Statements=[
            {"Statement": "SELECT * FROM music WHERE Artist = 'A' AND SongTitle = '1'"},
            {"Statement": "DELETE FROM music WHERE Artist = 'A' AND SongTitle = '1'"}])
    assert info.value.response["Error"]["Message"] == (
        "Read and write requests together in the same batch is not supported.")


def test_transaction_is_all_or_nothing(ddb: Any, table: str) -> None:
    song(ddb, "A", "1", n="1")
    with pytest.raises(ClientError) as info:
        ddb.execute_transaction(TransactStatements=[
            {"Statement": "INSERT INTO music VALUE {'Artist': 'A', 'SongTitle': '2'}"},
            {"Statement": "UPDATE music SET n = 2 WHERE Artist = 'A' AND SongTitle = 'missing'"},
            {"Statement": "INSERT INTO music VALUE {'Artist': 'A', 'SongTitle': '1'}"},
        ])
    assert info.value.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = info.value.response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "ConditionalCheckFailed", "DuplicateItem"]
    assert len(run(ddb, "SELECT * FROM music")["Items"]) == 1  # the first INSERT was not kept
    out = ddb.execute_transaction(TransactStatements=[
        {"Statement": "EXISTS(SELECT * FROM music WHERE Artist = 'A' AND SongTitle = '1' AND n = 1)"},
        {"Statement": "INSERT INTO music VALUE {'Artist': 'A', 'SongTitle': '2'}"},
    ])
    assert out["Responses"] == []
    with pytest.raises(ClientError) as info:
        ddb.execute_transaction(TransactStatements=[
            {"Statement": "EXISTS(SELECT * FROM music WHERE Artist = 'A' AND SongTitle = '1' AND n = 9)"},
            {"Statement": "DELETE FROM music WHERE Artist = 'A' AND SongTitle = '2'"},
        ])
    reasons = info.value.response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["ConditionalCheckFailed", "None"]
    assert len(run(ddb, "SELECT * FROM music")["Items"]) == 2


def test_transaction_reads_and_rules(ddb: Any, table: str) -> None:
    song(ddb, "A", "1", n="1")
    out = ddb.execute_transaction(TransactStatements=[
        {"Statement": "SELECT n FROM music WHERE Artist = 'A' AND SongTitle = '1'"},
        {"Statement": "SELECT * FROM music WHERE Artist = 'A' AND SongTitle = 'missing'"},
    ])
    assert out["Responses"] == [{"Item": {"n": {"N": "1"}}}, {}]

    def refused(*statements: str) -> str:
        with pytest.raises(ClientError) as info:
            ddb.execute_transaction(TransactStatements=[{"Statement": s} for s in statements])
        assert info.value.response["Error"]["Code"] == "ValidationException"
        return str(info.value.response["Error"]["Message"])

    assert refused("SELECT * FROM music WHERE Artist = 'A' AND SongTitle = '1'",
                   "DELETE FROM music WHERE Artist = 'A' AND SongTitle = '1'") == (
        "ExecuteTransaction API does not support both read and write operations in the same request.")
    assert refused("SELECT * FROM music WHERE Artist = 'A'") == (
        "Select statements within ExecuteTransaction must specify the primary key in the where clause.")
    assert refused("UPDATE music SET n = 1 WHERE Artist = 'A' AND SongTitle = '1'",
                   "DELETE FROM music WHERE Artist = 'A' AND SongTitle = '1'") == (
        "Transaction request cannot include multiple operations on one item")


def test_transaction_client_request_token(ddb: Any, table: str) -> None:
    song(ddb, "A", "1", n="1")
    statements = [{"Statement": "UPDATE music SET n = n + 1 WHERE Artist = 'A' AND SongTitle = '1'"}]
    ddb.execute_transaction(TransactStatements=statements, ClientRequestToken="token-1")
    ddb.execute_transaction(TransactStatements=statements, ClientRequestToken="token-1")
    item = run(ddb, "SELECT n FROM music WHERE Artist = 'A'")["Items"][0]
    assert item == {"n": {"N": "2"}}  # the retry was answered, not applied again
    with pytest.raises(ClientError) as info:
        ddb.execute_transaction(TransactStatements=[
            {"Statement": "UPDATE music SET n = 7 WHERE Artist = 'A' AND SongTitle = '1'"}],
            ClientRequestToken="token-1")
    assert info.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"


def test_a_statement_write_passes_through_the_fault_seam(fakes3: Any, faults: Any, ddb: Any,
                                                          table: str) -> None:
    """A hold between an UPDATE's check and its write: a second conditional UPDATE waits for the item and
    then fails its condition, as a native UpdateItem does."""
    song(ddb, "A", "1", n="0")
    faults.add(hold_action("mid", phase="between"), operation="ExecuteStatement", nth=1)
    statement = "UPDATE music SET n = 1 WHERE Artist = 'A' AND SongTitle = '1' AND n = 0"
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(run, ddb, statement)
        faults.holds["mid"].wait_arrived(1, timeout=30)
        second = pool.submit(run, ddb, statement)
        faults.holds["mid"].release()
        first.result(timeout=30)
        with pytest.raises(ClientError) as info:
            second.result(timeout=30)
    assert info.value.response["Error"]["Code"] == "ConditionalCheckFailedException"


def test_the_resource_api_reaches_partiql_through_its_client(fakes3: Any, table: str) -> None:
    """boto3's resource API has no PartiQL entry point of its own; its client does."""
    resource = boto3.resource("dynamodb", endpoint_url=fakes3.endpoint_url, region_name=fakes3.region,
                              **fakes3.credentials)
    assert not hasattr(resource, "execute_statement")
    resource.Table(table).put_item(Item={"Artist": "A", "SongTitle": "1", "n": 3})
    statement = "SELECT n FROM music WHERE Artist = 'A'"
    items = resource.meta.client.execute_statement(Statement=statement)["Items"]
    assert items == [{"n": Decimal(3)}]  # the resource's client speaks Python types


def test_statement_writes_survive_a_restart_with_a_data_dir(tmp_path: Any) -> None:
    """Writes go through the native write path, and so into the data dir."""
    with FakeAWS(data_dir=tmp_path, imds=False) as aws:
        client = aws.client("dynamodb")
        client.create_table(TableName="kept", BillingMode="PAY_PER_REQUEST",
                            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
        run(client, "INSERT INTO kept VALUE {'pk': 'a', 'n': 1}")
        run(client, "INSERT INTO kept VALUE {'pk': 'b', 'n': 2}")
        run(client, "UPDATE kept SET n = n + 10 WHERE pk = 'a'")
        client.execute_transaction(TransactStatements=[{"Statement": "DELETE FROM kept WHERE pk = 'b'"}])
    with FakeAWS(data_dir=tmp_path, imds=False) as aws:
        items = run(aws.client("dynamodb"), "SELECT * FROM kept")["Items"]
    assert items == [{"pk": {"S": "a"}, "n": {"N": "11"}}]
