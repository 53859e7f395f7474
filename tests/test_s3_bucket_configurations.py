"""The bucket settings infrastructure tools read with every bucket (Terraform's aws_s3_bucket reads
them all): website, logging, Requester Pays, Transfer Acceleration, replication and event
notifications — stored, checked, read back and deleted as S3 does, through real boto3 clients.
None is acted on (no website endpoint, no log, no charge, no replica, no event).

Sources, per test: [API] the S3 API reference page of the operation; [UG] the S3 user guide;
[model] botocore's S3 model; [LS] LocalStack's tests validated against AWS; [ceph]/[versitygw]/
[scality]/[swift] those S3 implementations' wordings; [TF] terraform-provider-aws threads quoting S3.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from s3_callers import error_of

from fakes3 import FakeAWS

BUCKET = "config-bkt"
TARGET = "config-logs"
ROLE = "arn:aws:iam::123456789012:role/replication"
QUEUE = "arn:aws:sqs:us-east-1:123456789012:events"
TOPIC = "arn:aws:sns:us-east-1:123456789012:events"
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:on-event"
SCHEMA = "The XML you provided was not well-formed or did not validate against our published schema"


@pytest.fixture
def s3(s3_client: Any) -> Any:
    s3_client.create_bucket(Bucket=BUCKET)
    return s3_client


def body_of(response: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def refused(call: Any, **kwargs: Any) -> tuple[str, int, str]:
    return error_of(call, **kwargs)


def put_raw(s3: Any, operation: str, method: str, document: bytes, integrity: bool = True,
            **kwargs: Any) -> tuple[str, int, str] | None:
    """``s3.<method>(**kwargs)`` sent with ``document`` as its body instead, and Content-MD5 as
    its only integrity header (or none): what botocore would not send on its own."""
    def replace_body(request: Any, **_: Any) -> None:
        request.data = document
        for name in ("Content-MD5", "Content-Length", "x-amz-checksum-crc32",
                     "x-amz-sdk-checksum-algorithm"):
            if name in request.headers:
                del request.headers[name]
        if integrity:
            request.headers["Content-MD5"] = base64.b64encode(hashlib.md5(document).digest()).decode()

    event = f"before-sign.s3.{operation}"
    s3.meta.events.register_first(event, replace_body)
    try:
        getattr(s3, method)(Bucket=BUCKET, **kwargs)
        return None
    except ClientError as err:
        e = err.response
        return e["Error"]["Code"], e["ResponseMetadata"]["HTTPStatusCode"], e["Error"].get("Message", "")
    finally:
        s3.meta.events.unregister(event, replace_body)


# -- what a bucket that never had them answers ----------------------------------------------------


def test_a_new_bucket_answers_each_setting_as_s3_does(s3: Any) -> None:
    # [API] GetBucketWebsite, GetBucketReplication: 404s with these codes; GetBucketLogging: an
    # empty BucketLoggingStatus; GetBucketRequestPayment: BucketOwner; GetBucketAccelerate-
    # Configuration: no Status "if the bucket has never been configured"; GetBucketNotification-
    # Configuration: an empty NotificationConfiguration. [LS] the 404s' messages.
    assert refused(s3.get_bucket_website, Bucket=BUCKET) == (
        "NoSuchWebsiteConfiguration", 404, "The specified bucket does not have a website configuration")
    assert refused(s3.get_bucket_replication, Bucket=BUCKET) == (
        "ReplicationConfigurationNotFoundError", 404, "The replication configuration was not found")
    assert body_of(s3.get_bucket_logging(Bucket=BUCKET)) == {}
    assert body_of(s3.get_bucket_request_payment(Bucket=BUCKET)) == {"Payer": "BucketOwner"}
    assert body_of(s3.get_bucket_accelerate_configuration(Bucket=BUCKET)) == {}
    assert body_of(s3.get_bucket_notification_configuration(Bucket=BUCKET)) == {}


def test_the_404s_name_the_bucket(s3: Any) -> None:
    for call in (s3.get_bucket_website, s3.get_bucket_replication):
        with pytest.raises(ClientError) as err:
            call(Bucket=BUCKET)
        assert err.value.response["Error"]["BucketName"] == BUCKET


def test_settings_of_a_missing_bucket_are_no_such_bucket(s3_client: Any) -> None:
    for call in (s3_client.get_bucket_website, s3_client.get_bucket_logging,
                 s3_client.get_bucket_request_payment, s3_client.get_bucket_accelerate_configuration,
                 s3_client.get_bucket_replication, s3_client.get_bucket_notification_configuration):
        assert refused(call, Bucket="no-such-bkt")[:2] == ("NoSuchBucket", 404)


def test_only_the_owner_reads_or_changes_them(s3: Any, other: Any) -> None:
    # No bucket policy grants another account these actions: only the owner may call them.
    assert refused(other.get_bucket_website, Bucket=BUCKET)[:2] == ("AccessDenied", 403)
    assert refused(other.put_bucket_request_payment, Bucket=BUCKET,
                   RequestPaymentConfiguration={"Payer": "Requester"})[:2] == ("AccessDenied", 403)


# -- website --------------------------------------------------------------------------------------

WEBSITE = {
    "IndexDocument": {"Suffix": "index.html"},
    "ErrorDocument": {"Key": "error.html"},
    "RoutingRules": [
        {"Condition": {"KeyPrefixEquals": "docs/"},
         "Redirect": {"ReplaceKeyPrefixWith": "documents/", "HttpRedirectCode": "301"}},
        {"Condition": {"HttpErrorCodeReturnedEquals": "404"},
         "Redirect": {"HostName": "example.com", "Protocol": "https", "ReplaceKeyWith": "404.html"}},
    ],
}


def test_a_website_configuration_is_stored_read_back_and_deleted(s3: Any) -> None:
    s3.put_bucket_website(Bucket=BUCKET, WebsiteConfiguration=WEBSITE)
    assert body_of(s3.get_bucket_website(Bucket=BUCKET)) == WEBSITE
    s3.put_bucket_website(Bucket=BUCKET, WebsiteConfiguration={
        "RedirectAllRequestsTo": {"HostName": "example.com", "Protocol": "https"}})
    assert body_of(s3.get_bucket_website(Bucket=BUCKET)) == {
        "RedirectAllRequestsTo": {"HostName": "example.com", "Protocol": "https"}}
    s3.delete_bucket_website(Bucket=BUCKET)  # [API] 204 No Content
    assert refused(s3.get_bucket_website, Bucket=BUCKET)[:2] == ("NoSuchWebsiteConfiguration", 404)
    s3.delete_bucket_website(Bucket=BUCKET)  # deleting what is not there succeeds too


@pytest.mark.parametrize(("config", "code", "message"), [
    # [LS] validate_website_configuration (snapshot-tested against AWS), [ceph], [versitygw].
    ({"RedirectAllRequestsTo": {"HostName": "example.com"}, "IndexDocument": {"Suffix": "i.html"}},
     "InvalidArgument", "RedirectAllRequestsTo cannot be provided in conjunction with other Routing Rules."),
    ({"ErrorDocument": {"Key": "e.html"}}, "InvalidArgument",
     "A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty"),
    ({"IndexDocument": {"Suffix": ""}}, "InvalidArgument", "The IndexDocument Suffix is not well formed"),
    ({"IndexDocument": {"Suffix": "pages/index.html"}}, "InvalidArgument",
     "The IndexDocument Suffix is not well formed"),
    ({"IndexDocument": {"Suffix": "i.html"}, "RoutingRules": [{"Redirect": {
        "ReplaceKeyWith": "a", "ReplaceKeyPrefixWith": "b/"}}]}, "InvalidRequest",
     "You can only define ReplaceKeyPrefix or ReplaceKey but not both."),
    ({"IndexDocument": {"Suffix": "i.html"}, "RoutingRules": [{"Condition": {}, "Redirect": {
        "HostName": "example.com"}}]}, "InvalidRequest", "Condition cannot be empty. To redirect all "
     "requests without a condition, the condition element shouldn't be present."),
    ({"IndexDocument": {"Suffix": "i.html"}, "RoutingRules": [{"Redirect": {
        "HttpRedirectCode": "300"}}]}, "InvalidRequest",
     "The provided HTTP redirect code (300) is not valid. Valid codes are 3XX except 300."),
    ({"IndexDocument": {"Suffix": "i.html"}, "RoutingRules": [{"Condition": {
        "HttpErrorCodeReturnedEquals": "302"}, "Redirect": {"HostName": "example.com"}}]},
     "InvalidRequest", "The provided HTTP error code (302) is not valid. Valid codes are 4XX or 5XX."),
    ({"IndexDocument": {"Suffix": "i.html"}, "RoutingRules": [{"Redirect": {"Protocol": "ftp"}}]},
     "InvalidRequest", "Invalid protocol, protocol can be http or https."),
    ({"IndexDocument": {"Suffix": "i.html"}, "RoutingRules": [{"Redirect": {}}]}, "MalformedXML", SCHEMA),
    ({"IndexDocument": {"Suffix": "i.html"}, "RoutingRules": [
        {"Redirect": {"HostName": "example.com"}}] * 51}, "InvalidRequest",
     "51 routing rules provided, the number of routing rules in a website configuration is limited to 50."),
])
def test_a_website_configuration_s3_refuses_is_refused(s3: Any, config: dict[str, Any], code: str,
                                                       message: str) -> None:
    got = refused(s3.put_bucket_website, Bucket=BUCKET, WebsiteConfiguration=config)
    assert got[:2] == (code, 400)
    assert got[2].startswith(message)
    assert refused(s3.get_bucket_website, Bucket=BUCKET)[1] == 404  # nothing was stored


def test_the_suffix_error_names_the_argument(s3: Any) -> None:
    with pytest.raises(ClientError) as err:
        s3.put_bucket_website(Bucket=BUCKET, WebsiteConfiguration={"IndexDocument": {"Suffix": "a/b"}})
    error = err.value.response["Error"]
    assert (error["ArgumentName"], error["ArgumentValue"]) == ("IndexDocument", "a/b")


# -- what needs Content-MD5 or a checksum ---------------------------------------------------------


@pytest.mark.parametrize(("operation", "method", "document", "kwargs"), [
    # [model] httpChecksum.requestChecksumRequired on these four (not on PutBucketAccelerate-
    # Configuration nor PutBucketNotificationConfiguration).
    ("PutBucketWebsite", "put_bucket_website",
     b"<WebsiteConfiguration><IndexDocument><Suffix>i.html</Suffix></IndexDocument></WebsiteConfiguration>",
     {"WebsiteConfiguration": {"IndexDocument": {"Suffix": "x.html"}}}),
    ("PutBucketLogging", "put_bucket_logging", b"<BucketLoggingStatus/>",
     {"BucketLoggingStatus": {}}),
    ("PutBucketRequestPayment", "put_bucket_request_payment",
     b"<RequestPaymentConfiguration><Payer>Requester</Payer></RequestPaymentConfiguration>",
     {"RequestPaymentConfiguration": {"Payer": "BucketOwner"}}),
    ("PutBucketReplication", "put_bucket_replication",
     b"<ReplicationConfiguration><Role>r</Role></ReplicationConfiguration>",
     {"ReplicationConfiguration": {"Role": "r", "Rules": []}}),
])
def test_puts_s3_requires_integrity_for_are_refused_without_it(s3: Any, operation: str, method: str,
                                                                document: bytes,
                                                                kwargs: dict[str, Any]) -> None:
    got = put_raw(s3, operation, method, document, integrity=False, **kwargs)
    assert got is not None and got[:2] == ("InvalidRequest", 400)
    assert got[2].startswith("Missing required header for this request: Content-MD5")


def test_accelerate_and_notification_puts_need_no_checksum(s3: Any) -> None:
    assert put_raw(s3, "PutBucketAccelerateConfiguration", "put_bucket_accelerate_configuration",
                   b"<AccelerateConfiguration><Status>Enabled</Status></AccelerateConfiguration>",
                   integrity=False, AccelerateConfiguration={"Status": "Suspended"}) is None
    assert put_raw(s3, "PutBucketNotificationConfiguration", "put_bucket_notification_configuration",
                   b"<NotificationConfiguration/>", integrity=False,
                   NotificationConfiguration={}) is None
    assert s3.get_bucket_accelerate_configuration(Bucket=BUCKET)["Status"] == "Enabled"


# -- logging --------------------------------------------------------------------------------------


def test_logging_is_stored_read_back_and_turned_off(s3: Any) -> None:
    s3.create_bucket(Bucket=TARGET)
    enabled = {"TargetBucket": TARGET, "TargetPrefix": "logs/",
               "TargetGrants": [{"Grantee": {"Type": "Group",
                                             "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
                                 "Permission": "READ"}],
               "TargetObjectKeyFormat": {"PartitionedPrefix": {"PartitionDateSource": "EventTime"}}}
    s3.put_bucket_logging(Bucket=BUCKET, BucketLoggingStatus={"LoggingEnabled": enabled})
    assert body_of(s3.get_bucket_logging(Bucket=BUCKET)) == {"LoggingEnabled": enabled}
    s3.put_bucket_logging(Bucket=BUCKET, BucketLoggingStatus={"LoggingEnabled": {
        "TargetBucket": TARGET, "TargetPrefix": "", "TargetObjectKeyFormat": {"SimplePrefix": {}}}})
    assert s3.get_bucket_logging(Bucket=BUCKET)["LoggingEnabled"] == {
        "TargetBucket": TARGET, "TargetPrefix": "", "TargetObjectKeyFormat": {"SimplePrefix": {}}}
    # [API] PutBucketLogging: "To disable logging, you use an empty BucketLoggingStatus".
    s3.put_bucket_logging(Bucket=BUCKET, BucketLoggingStatus={})
    assert body_of(s3.get_bucket_logging(Bucket=BUCKET)) == {}


def test_a_bucket_may_log_to_itself(s3: Any) -> None:
    s3.put_bucket_logging(Bucket=BUCKET, BucketLoggingStatus={
        "LoggingEnabled": {"TargetBucket": BUCKET, "TargetPrefix": "logs/"}})
    assert s3.get_bucket_logging(Bucket=BUCKET)["LoggingEnabled"]["TargetBucket"] == BUCKET


def test_logging_to_a_missing_bucket_is_refused(s3: Any) -> None:
    # [UG] "Troubleshoot server access logging"; [LS], [swift], [scality]: the wording and the
    # TargetBucket element.
    with pytest.raises(ClientError) as err:
        s3.put_bucket_logging(Bucket=BUCKET, BucketLoggingStatus={
            "LoggingEnabled": {"TargetBucket": "no-such-logs", "TargetPrefix": "l/"}})
    error = err.value.response["Error"]
    assert (error["Code"], err.value.response["ResponseMetadata"]["HTTPStatusCode"]) == \
        ("InvalidTargetBucketForLogging", 400)
    assert error["Message"].startswith("The target bucket for logging does not exist")
    assert error["TargetBucket"] == "no-such-logs"


def test_logging_to_another_accounts_bucket_is_refused(s3: Any, other: Any) -> None:
    # [UG] "The owner for the bucket to be logged and the target bucket must be the same".
    other.create_bucket(Bucket="others-logs")
    got = refused(s3.put_bucket_logging, Bucket=BUCKET, BucketLoggingStatus={
        "LoggingEnabled": {"TargetBucket": "others-logs", "TargetPrefix": "l/"}})
    assert got[:2] == ("InvalidTargetBucketForLogging", 400)
    assert got[2].startswith("The owner for the bucket to be logged and the target bucket must be the "
                             "same.")


def test_logging_to_another_regions_bucket_is_refused(s3: Any, fakes3: FakeAWS) -> None:
    # [UG] "Cross S3 location logging not allowed"; [API] error table: CrossLocationLoggingProhibitted
    # is 403; [LS] the TargetBucketLocation element.
    fakes3.client("s3", region_name="eu-west-1").create_bucket(
        Bucket="eu-logs", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    with pytest.raises(ClientError) as err:
        s3.put_bucket_logging(Bucket=BUCKET, BucketLoggingStatus={
            "LoggingEnabled": {"TargetBucket": "eu-logs", "TargetPrefix": "l/"}})
    error = err.value.response["Error"]
    assert (error["Code"], err.value.response["ResponseMetadata"]["HTTPStatusCode"]) == \
        ("CrossLocationLoggingProhibitted", 403)
    assert error["Message"].startswith("Cross S3 location logging not allowed.")
    assert error["TargetBucketLocation"] == "eu-west-1"
    assert body_of(s3.get_bucket_logging(Bucket=BUCKET)) == {}


@pytest.mark.parametrize("enabled", [
    {"TargetBucket": "", "TargetPrefix": "l/"},
    {"TargetBucket": TARGET, "TargetPrefix": "l/",
     "TargetGrants": [{"Grantee": {"Type": "Group", "URI": "u"}, "Permission": "WRITE_ACP"}]},
    {"TargetBucket": TARGET, "TargetPrefix": "l/",
     "TargetObjectKeyFormat": {"SimplePrefix": {}, "PartitionedPrefix": {}}},
    {"TargetBucket": TARGET, "TargetPrefix": "l/",
     "TargetObjectKeyFormat": {"PartitionedPrefix": {"PartitionDateSource": "Yesterday"}}},
])
def test_a_logging_document_out_of_schema_is_malformed_xml(s3: Any, enabled: dict[str, Any]) -> None:
    s3.create_bucket(Bucket=TARGET)
    got = refused(s3.put_bucket_logging, Bucket=BUCKET, BucketLoggingStatus={"LoggingEnabled": enabled})
    assert got[:2] == ("MalformedXML", 400)


# -- Requester Pays -------------------------------------------------------------------------------


def test_requester_pays_is_stored_and_read_back(s3: Any) -> None:
    s3.put_bucket_request_payment(Bucket=BUCKET, RequestPaymentConfiguration={"Payer": "Requester"})
    assert s3.get_bucket_request_payment(Bucket=BUCKET)["Payer"] == "Requester"
    s3.put_bucket_request_payment(Bucket=BUCKET, RequestPaymentConfiguration={"Payer": "BucketOwner"})
    assert s3.get_bucket_request_payment(Bucket=BUCKET)["Payer"] == "BucketOwner"


def test_a_requester_pays_bucket_charges_other_accounts_only_when_they_agree(
        s3: Any, other: Any, anon: Any) -> None:
    """S3 User Guide, "Using Requester Pays buckets": a requester who is not the owner sends
    x-amz-request-payer: requester, or gets 403; anonymous requests are refused; the answer carries
    x-amz-request-charged. The owner pays for its own requests and sends nothing."""
    s3.delete_public_access_block(Bucket=BUCKET)
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{BUCKET}/*"}]}))
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"v")
    assert other.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"v"  # not yet Requester Pays
    s3.put_bucket_request_payment(Bucket=BUCKET, RequestPaymentConfiguration={"Payer": "Requester"})
    assert error_of(other.get_object, Bucket=BUCKET, Key="k")[:2] == ("AccessDenied", 403)
    assert error_of(anon.get_object, Bucket=BUCKET, Key="k", RequestPayer="requester")[:2] == \
        ("AccessDenied", 403)
    got = other.get_object(Bucket=BUCKET, Key="k", RequestPayer="requester")
    assert (got["Body"].read(), got["RequestCharged"]) == (b"v", "requester")
    own = s3.get_object(Bucket=BUCKET, Key="k")
    assert own["Body"].read() == b"v" and "RequestCharged" not in own


@pytest.mark.parametrize("payer", ["Anyone", "requester", ""])
def test_a_payer_s3_does_not_know_is_malformed_xml(s3: Any, payer: str) -> None:
    got = refused(s3.put_bucket_request_payment, Bucket=BUCKET,
                  RequestPaymentConfiguration={"Payer": payer})
    assert got[:2] == ("MalformedXML", 400)


# -- Transfer Acceleration ------------------------------------------------------------------------


def test_acceleration_is_enabled_and_suspended(s3: Any) -> None:
    s3.put_bucket_accelerate_configuration(Bucket=BUCKET, AccelerateConfiguration={"Status": "Enabled"})
    assert body_of(s3.get_bucket_accelerate_configuration(Bucket=BUCKET)) == {"Status": "Enabled"}
    s3.put_bucket_accelerate_configuration(Bucket=BUCKET, AccelerateConfiguration={"Status": "Suspended"})
    assert body_of(s3.get_bucket_accelerate_configuration(Bucket=BUCKET)) == {"Status": "Suspended"}


@pytest.mark.parametrize("config", [{"Status": "On"}, {}])
def test_an_acceleration_status_s3_does_not_know_is_malformed_xml(s3: Any, config: dict[str, Any]) -> None:
    got = refused(s3.put_bucket_accelerate_configuration, Bucket=BUCKET, AccelerateConfiguration=config)
    assert got[:2] == ("MalformedXML", 400)


@pytest.mark.parametrize("status", ["Enabled", "Suspended"])
def test_buckets_with_periods_cannot_use_acceleration(s3_client: Any, status: str) -> None:
    # [API] PutBucketAccelerateConfiguration: names "must not contain periods"; the error table's
    # InvalidRequest wording; [TF] #25048: refused even to suspend.
    s3_client.create_bucket(Bucket="dotted.config.bkt")
    got = refused(s3_client.put_bucket_accelerate_configuration, Bucket="dotted.config.bkt",
                  AccelerateConfiguration={"Status": status})
    assert got[:2] == ("InvalidRequest", 400)
    assert got[2].startswith("Amazon S3 Transfer Acceleration is not supported for buckets with periods "
                             "(.) in their names.")
    assert body_of(s3_client.get_bucket_accelerate_configuration(Bucket="dotted.config.bkt")) == {}


# -- replication ----------------------------------------------------------------------------------

DESTINATION = "config-replica"


def versioned(s3: Any, *buckets: str) -> None:
    for name in buckets:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})


@pytest.fixture
def replicable(s3: Any) -> Any:
    """BUCKET and DESTINATION, both with versioning enabled."""
    s3.create_bucket(Bucket=DESTINATION)
    versioned(s3, BUCKET, DESTINATION)
    return s3


def v2_rule(rule_id: str = "r1", priority: int = 1, **extra: Any) -> dict[str, Any]:
    rule = {"ID": rule_id, "Priority": priority, "Filter": {"Prefix": "logs/"}, "Status": "Enabled",
            "DeleteMarkerReplication": {"Status": "Disabled"},
            "Destination": {"Bucket": f"arn:aws:s3:::{DESTINATION}"}}
    rule.update(extra)
    return rule


def test_replication_is_stored_read_back_and_deleted(replicable: Any) -> None:
    s3 = replicable
    config = {"Role": ROLE, "Rules": [
        v2_rule(),
        v2_rule("r2", 2, Filter={"And": {"Prefix": "img/", "Tags": [{"Key": "k", "Value": "v"}]}},
                Destination={"Bucket": f"arn:aws:s3:::{DESTINATION}", "StorageClass": "STANDARD_IA"}),
    ]}
    s3.put_bucket_replication(Bucket=BUCKET, ReplicationConfiguration=config)
    assert s3.get_bucket_replication(Bucket=BUCKET)["ReplicationConfiguration"] == config
    # versioning stays on while a replication configuration is there (S3's message, as Terraform
    # users quote it)
    assert refused(s3.put_bucket_versioning, Bucket=BUCKET,
                   VersioningConfiguration={"Status": "Suspended"})[:2] == ("InvalidBucketState", 409)
    s3.delete_bucket_replication(Bucket=BUCKET)  # [API] 204 No Content
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})
    assert refused(s3.get_bucket_replication, Bucket=BUCKET)[:2] == \
        ("ReplicationConfigurationNotFoundError", 404)
    s3.delete_bucket_replication(Bucket=BUCKET)


def test_a_rule_sent_without_an_id_gets_one(replicable: Any) -> None:
    # [API] ReplicationRule ID: optional. S3 fills it in (base64 of a UUID, as for lifecycle rules).
    rule = v2_rule()
    del rule["ID"]
    replicable.put_bucket_replication(Bucket=BUCKET, ReplicationConfiguration={"Role": ROLE,
                                                                              "Rules": [rule]})
    got = replicable.get_bucket_replication(Bucket=BUCKET)["ReplicationConfiguration"]["Rules"][0]
    assert len(got["ID"]) == 48 and base64.b64decode(got["ID"]).count(b"-") == 4


def test_a_first_schema_rule_with_a_prefix_is_kept_as_sent(replicable: Any) -> None:
    rule = {"ID": "v1", "Prefix": "", "Status": "Enabled",
            "Destination": {"Bucket": f"arn:aws:s3:::{DESTINATION}"}}
    replicable.put_bucket_replication(Bucket=BUCKET, ReplicationConfiguration={"Role": ROLE,
                                                                              "Rules": [rule]})
    assert replicable.get_bucket_replication(Bucket=BUCKET)["ReplicationConfiguration"]["Rules"] == [rule]


@pytest.mark.parametrize("status", [None, "Suspended"])
def test_replication_needs_versioning_enabled_on_the_source(s3: Any, status: str | None) -> None:
    # [API] PutBucketReplication: versioning must be enabled; [LS], moto: the wording.
    s3.create_bucket(Bucket=DESTINATION)
    versioned(s3, DESTINATION)
    if status is not None:
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": status})
    got = refused(s3.put_bucket_replication, Bucket=BUCKET,
                  ReplicationConfiguration={"Role": ROLE, "Rules": [v2_rule()]})
    assert got[:2] == ("InvalidRequest", 400)
    assert got[2].startswith("Versioning must be 'Enabled' on the bucket to apply a replication "
                             "configuration")


def test_the_destination_must_have_versioning_enabled(s3: Any) -> None:
    # [LS]: the same answer for a destination that does not exist, recorded against AWS.
    versioned(s3, BUCKET)
    config = {"Role": ROLE, "Rules": [v2_rule()]}
    got = refused(s3.put_bucket_replication, Bucket=BUCKET, ReplicationConfiguration=config)
    assert got[:2] == ("InvalidRequest", 400)
    assert got[2].startswith("Destination bucket must have versioning enabled.")
    s3.create_bucket(Bucket=DESTINATION)
    assert refused(s3.put_bucket_replication, Bucket=BUCKET, ReplicationConfiguration=config)[2] \
        .startswith("Destination bucket must have versioning enabled.")
    versioned(s3, DESTINATION)
    s3.put_bucket_replication(Bucket=BUCKET, ReplicationConfiguration=config)


@pytest.mark.parametrize(("rules", "code", "message"), [
    # [swift] s3api replication (OVH's wordings, S3's); moto; [TF] threads quoting S3.
    ([v2_rule(Priority=None)], "InvalidRequest", "Priority must be specified for this version of Cross "
     "Region Replication configuration schema."),
    ([v2_rule(DeleteMarkerReplication=None)], "InvalidRequest", "DeleteMarkerReplication must be "
     "specified for this version of Cross Region Replication configuration schema."),
    ([v2_rule(), v2_rule("r2", 1)], "InvalidRequest", "Found duplicate priority 1."),
    ([v2_rule(), v2_rule("r1", 2)], "InvalidArgument", "Rule Id must be unique."),
    ([v2_rule("x" * 256)], "InvalidArgument", "The maximum value is 255 characters."),
    ([v2_rule(priority=-1)], "InvalidRequest", "Priority must be between 0 and 2147483647."),
    ([v2_rule(Filter={"Tag": {"Key": "k", "Value": "v"}}, DeleteMarkerReplication={"Status": "Enabled"})],
     "InvalidRequest", "Delete marker replication is not supported if any Tag filter is specified."),
    ([v2_rule(Filter={"And": {"Tags": [{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}]}})],
     "InvalidRequest", "Duplicate Tag Keys are not allowed."),
    ([v2_rule(Destination={"Bucket": DESTINATION})], "InvalidArgument", "Invalid bucket ARN."),
    ([v2_rule(Destination={"Bucket": f"arn:aws:s3:::{BUCKET}"})], "InvalidRequest",
     "Destination bucket cannot be the same as the source bucket."),
    ([v2_rule(SourceSelectionCriteria={"SseKmsEncryptedObjects": {"Status": "Enabled"}})],
     "InvalidRequest", "ReplicaKmsKeyID must be specified if SseKmsEncryptedObjects tag is present."),
    ([{"ID": "v1", "Prefix": "", "Priority": 1, "Status": "Enabled",
       "Destination": {"Bucket": f"arn:aws:s3:::{DESTINATION}"}}], "InvalidRequest",
     "Priority cannot be used for this version of Cross Region Replication configuration schema."),
    ([], "MalformedXML", SCHEMA),
    ([v2_rule(Status="On")], "MalformedXML", SCHEMA),
    ([v2_rule(Filter={"Prefix": "a", "Tag": {"Key": "k", "Value": "v"}})], "MalformedXML", SCHEMA),
    ([{"ID": "none", "Status": "Enabled", "Destination": {"Bucket": f"arn:aws:s3:::{DESTINATION}"}}],
     "MalformedXML", SCHEMA),
    ([v2_rule(Destination={"Bucket": f"arn:aws:s3:::{DESTINATION}", "StorageClass": "CHEAP"})],
     "MalformedXML", SCHEMA),
])
def test_a_replication_configuration_s3_refuses_is_refused(replicable: Any, rules: list[Any], code: str,
                                                           message: str) -> None:
    rules = [{k: v for k, v in rule.items() if v is not None} for rule in rules]
    got = refused(replicable.put_bucket_replication, Bucket=BUCKET,
                  ReplicationConfiguration={"Role": ROLE, "Rules": rules})
    assert got[:2] == (code, 400)
    assert got[2].startswith(message)
    assert refused(replicable.get_bucket_replication, Bucket=BUCKET)[1] == 404


def test_replicating_writes_no_replica(replicable: Any) -> None:
    # fakes3 keeps the configuration only: objects are not copied to the destination.
    replicable.put_bucket_replication(Bucket=BUCKET, ReplicationConfiguration={"Role": ROLE,
                                                                              "Rules": [v2_rule()]})
    replicable.put_object(Bucket=BUCKET, Key="logs/a", Body=b"a")
    assert replicable.list_objects_v2(Bucket=DESTINATION)["KeyCount"] == 0
    assert "ReplicationStatus" not in replicable.head_object(Bucket=BUCKET, Key="logs/a")


# -- event notifications --------------------------------------------------------------------------


def test_notifications_are_stored_read_back_and_removed(s3: Any) -> None:
    config = {
        "TopicConfigurations": [{"Id": "t", "TopicArn": TOPIC, "Events": ["s3:ObjectRemoved:*"]}],
        "QueueConfigurations": [{"Id": "q", "QueueArn": QUEUE, "Events": ["s3:ObjectCreated:Put"],
                                 "Filter": {"Key": {"FilterRules": [{"Name": "Prefix", "Value": "in/"},
                                                                    {"Name": "Suffix", "Value": ".csv"}]}}}],
        "LambdaFunctionConfigurations": [{"Id": "f", "LambdaFunctionArn": FUNCTION,
                                          "Events": ["s3:ObjectCreated:Put"],
                                          "Filter": {"Key": {"FilterRules": [
                                              {"Name": "Prefix", "Value": "out/"}]}}}],
        "EventBridgeConfiguration": {},
    }
    s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration=config)
    assert body_of(s3.get_bucket_notification_configuration(Bucket=BUCKET)) == config
    # [API] "To turn off notifications on a bucket, you specify an empty NotificationConfiguration".
    s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration={})
    assert body_of(s3.get_bucket_notification_configuration(Bucket=BUCKET)) == {}


def test_filter_rule_names_are_kept_capitalised_and_ids_filled_in(s3: Any) -> None:
    # [LS] (AWS-validated): S3 answers "Prefix"/"Suffix" whatever case was sent, and gives an Id.
    s3.put_bucket_notification_configuration(
        Bucket=BUCKET, NotificationConfiguration={"QueueConfigurations": [{
            "QueueArn": QUEUE, "Events": ["s3:ObjectCreated:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "in/"}]}}}]},
        SkipDestinationValidation=True)
    got = s3.get_bucket_notification_configuration(Bucket=BUCKET)["QueueConfigurations"][0]
    assert got["Filter"] == {"Key": {"FilterRules": [{"Name": "Prefix", "Value": "in/"}]}}
    assert got["Id"]


@pytest.mark.parametrize(("config", "message"), [
    # MinIO's S3 wordings, [LS] (the ARN), user reports quoting S3 (the overlap).
    ({"QueueConfigurations": [{"QueueArn": QUEUE, "Events": ["s3:ObjectCreated:Sometimes"]}]},
     "A specified event is not supported for notifications."),
    ({"QueueConfigurations": [{"QueueArn": TOPIC, "Events": ["s3:ObjectCreated:*"]}]},
     "The ARN could not be parsed"),
    ({"QueueConfigurations": [{"QueueArn": QUEUE, "Events": ["s3:ObjectCreated:*"],
                               "Filter": {"Key": {"FilterRules": [{"Name": "infix", "Value": "a"}]}}}]},
     "filter rule name must be either prefix or suffix"),
    ({"QueueConfigurations": [{"QueueArn": QUEUE, "Events": ["s3:ObjectCreated:*"],
                               "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "a"},
                                                                  {"Name": "Prefix", "Value": "b"}]}}}]},
     "Cannot specify more than one prefix rule in a filter."),
    ({"QueueConfigurations": [{"QueueArn": QUEUE, "Events": ["s3:ObjectCreated:*"],
                               "Filter": {"Key": {"FilterRules": [{"Name": "suffix",
                                                                  "Value": "x" * 1025}]}}}]},
     "Size of filter rule value cannot exceed 1024 bytes in UTF-8 representation"),
    ({"QueueConfigurations": [{"QueueArn": QUEUE, "Events": ["s3:ObjectCreated:*"]}],
      "LambdaFunctionConfigurations": [{"LambdaFunctionArn": FUNCTION, "Events": ["s3:ObjectCreated:Put"],
                                        "Filter": {"Key": {"FilterRules": [{"Name": "prefix",
                                                                            "Value": "in/"}]}}}]},
     "Configuration is ambiguously defined. Cannot have overlapping suffixes in two rules if the "
     "prefixes are overlapping for the same event type."),
])
def test_a_notification_configuration_s3_refuses_is_refused(s3: Any, config: dict[str, Any],
                                                            message: str) -> None:
    got = refused(s3.put_bucket_notification_configuration, Bucket=BUCKET, NotificationConfiguration=config)
    assert got[:2] == ("InvalidArgument", 400)
    assert got[2].startswith(message)
    assert body_of(s3.get_bucket_notification_configuration(Bucket=BUCKET)) == {}


def test_configurations_that_cannot_both_match_may_share_an_event(s3: Any) -> None:
    rules = [("in/", ".csv"), ("in/", ".json"), ("out/", ".csv")]
    s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration={
        "QueueConfigurations": [
            {"Id": f"q{i}", "QueueArn": QUEUE, "Events": ["s3:ObjectCreated:*"],
             "Filter": {"Key": {"FilterRules": [{"Name": "Prefix", "Value": prefix},
                                                {"Name": "Suffix", "Value": suffix}]}}}
            for i, (prefix, suffix) in enumerate(rules)]})
    assert len(s3.get_bucket_notification_configuration(Bucket=BUCKET)["QueueConfigurations"]) == 3


def test_a_notification_without_events_is_malformed_xml(s3: Any) -> None:
    got = refused(s3.put_bucket_notification_configuration, Bucket=BUCKET,
                  NotificationConfiguration={"QueueConfigurations": [{"QueueArn": QUEUE, "Events": []}]})
    assert got[:2] == ("MalformedXML", 400)


# -- a restart with a data dir --------------------------------------------------------------------


def test_every_setting_survives_a_restart(tmp_path: Any) -> None:
    with FakeAWS(data_dir=tmp_path, imds=False) as aws:
        s3 = aws.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.create_bucket(Bucket=DESTINATION)
        versioned(s3, BUCKET, DESTINATION)
        s3.put_bucket_website(Bucket=BUCKET, WebsiteConfiguration=WEBSITE)
        s3.put_bucket_logging(Bucket=BUCKET, BucketLoggingStatus={
            "LoggingEnabled": {"TargetBucket": DESTINATION, "TargetPrefix": "logs/"}})
        s3.put_bucket_request_payment(Bucket=BUCKET, RequestPaymentConfiguration={"Payer": "Requester"})
        s3.put_bucket_accelerate_configuration(Bucket=BUCKET, AccelerateConfiguration={"Status": "Enabled"})
        s3.put_bucket_replication(Bucket=BUCKET, ReplicationConfiguration={"Role": ROLE,
                                                                          "Rules": [v2_rule()]})
        s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration={
            "QueueConfigurations": [{"Id": "q", "QueueArn": QUEUE, "Events": ["s3:ObjectCreated:*"]}]})
        before = {name: body_of(getattr(s3, name)(Bucket=BUCKET)) for name in (
            "get_bucket_website", "get_bucket_logging", "get_bucket_request_payment",
            "get_bucket_accelerate_configuration", "get_bucket_replication",
            "get_bucket_notification_configuration")}
        # DESTINATION's settings were never changed: it answers as a new bucket after the restart.
        s3.delete_bucket_website(Bucket=BUCKET)
        s3.put_bucket_website(Bucket=BUCKET, WebsiteConfiguration=WEBSITE)
    with FakeAWS(data_dir=tmp_path, imds=False) as aws:
        s3 = aws.client("s3")
        after = {name: body_of(getattr(s3, name)(Bucket=BUCKET)) for name in before}
        assert after == before
        assert refused(s3.get_bucket_website, Bucket=DESTINATION)[:2] == ("NoSuchWebsiteConfiguration", 404)
        assert body_of(s3.get_bucket_accelerate_configuration(Bucket=DESTINATION)) == {}
        s3.delete_bucket_replication(Bucket=BUCKET)
    with FakeAWS(data_dir=tmp_path, imds=False) as aws:
        assert refused(aws.client("s3").get_bucket_replication, Bucket=BUCKET)[1] == 404
