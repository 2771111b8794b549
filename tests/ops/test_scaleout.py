"""Scale-out on existing engines: batches on a Dask cluster over TCP, output to S3 (moto on loopback)."""
from __future__ import annotations

import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pytest

from flows.cli import main
from flows.clean_news import clean_news
from tests.conftest import read_table


@pytest.fixture
def dask_address():
    from distributed import LocalCluster

    # Threads, not processes: the cluster starts in a second; the client still talks TCP on loopback.
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, protocol="tcp", host="127.0.0.1",
                      dashboard_address=None) as cluster:
        yield cluster.scheduler_address


def test_batches_run_on_an_existing_dask_cluster(prefect_harness, corpus, dask_address, capsys):
    source, out = corpus
    assert dask_address.startswith("tcp://127.0.0.1:")
    code = main(["run", str(source), "--out", str(out), "--batch-size", "8", "--task-runner", "dask",
                 "--dask-address", dask_address])
    assert code == 0, capsys.readouterr().err
    ids = read_table(out).column("doc_id").to_pylist() + read_table(out, "quarantine").column("doc_id").to_pylist()
    assert len(ids) == len(set(ids)) == 24


@pytest.fixture
def s3_endpoint(monkeypatch):
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
                        "AWS_ENDPOINT_URL": endpoint}.items():
        monkeypatch.setenv(name, value)
    filesystem = pafs.S3FileSystem(endpoint_override=endpoint, scheme="http", access_key="testing",
                                   secret_key="testing", region="us-east-1", allow_bucket_creation=True)
    filesystem.create_dir("news-bucket")
    yield filesystem
    server.stop()


def test_output_to_s3_and_incremental_rerun(prefect_harness, corpus, s3_endpoint):
    source, _ = corpus
    first = clean_news(sources=[str(source)], out="s3://news-bucket/clean", batch_size=10, workers=1)
    assert first["written"] + first["quarantined"] == 24
    articles = ds.dataset("news-bucket/clean/articles", filesystem=s3_endpoint, format="parquet",
                          partitioning="hive").to_table()
    assert articles.num_rows == first["written"]
    assert s3_endpoint.get_file_info("news-bucket/clean/state/site_lines/base.json").type == pafs.FileType.File
    again = clean_news(sources=[str(source)], out="s3://news-bucket/clean", workers=1)
    assert again["skipped_unchanged"] == 24 and again["read"] == 0
    # the GX project (suite, Checkpoint, validation results), built locally, copied up beside the tables
    results = s3_endpoint.get_file_info(pafs.FileSelector(
        f"news-bucket/clean/gx/uncommitted/validations/articles/{first['run_id']}", recursive=True))
    assert any(info.path.endswith(".json") for info in results)

    from flows.report import rebuild_reports  # `newsclean report s3://...`: Data Docs built locally, copied up

    rebuilt = rebuild_reports("s3://news-bucket/clean")
    assert rebuilt["adds_up"] and rebuilt["runs"] == sorted([first["run_id"], again["run_id"]])
    docs = s3_endpoint.get_file_info("news-bucket/clean/reports/data_docs/index.html")
    assert docs.type == pafs.FileType.File
