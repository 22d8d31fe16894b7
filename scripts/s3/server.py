"""An S3 server (moto) for a durable Tansu broker: the broker keeps its topics, offsets and
consumer groups in the bucket, so a broker restarted on the same bucket finds them again.

    server.py --port 9000 --bucket tansu

Listens on 127.0.0.1 only, creates the bucket, prints `ready <port>` once it answers and
runs until stopped. The objects live in this process's memory: the server outlives the
broker restarts it is there for, not its own.

Run it with the python that scripts/install-moto prints.
"""

import argparse
import signal
import sys
import threading

import boto3
from moto.server import ThreadedMotoServer

REGION = "eu-west-2"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--bucket", default="tansu")
    args = parser.parse_args()

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=args.port, verbose=False)
    server.start()
    s3 = boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{args.port}",
        aws_access_key_id="tansu",
        aws_secret_access_key="tansu",
        region_name=REGION,
    )
    s3.create_bucket(
        Bucket=args.bucket,
        CreateBucketConfiguration={"LocationConstraint": REGION},
    )
    print(f"ready {args.port}", flush=True)

    stopped = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopped.set())
    stopped.wait()
    server.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()
