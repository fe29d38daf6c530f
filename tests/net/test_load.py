"""Load: 8 concurrent associations send 504 instances; each is stored exactly once."""

from __future__ import annotations

import hashlib

import pydicom
import pytest

from dicom_tools import free_port, tool
from planarmpi.net import DicomNode
from planarmpi.net.load import make_load_set, send_concurrently, sha256_of
from planarmpi.store import Archive

pytestmark = [pytest.mark.slow, pytest.mark.external, pytest.mark.timeout(900)]


def test_eight_associations_every_instance_once(muga_study, tmp_path, db_url):
    tool("storescu")
    (source,) = muga_study.glob("*.dcm")
    groups = make_load_set(source, tmp_path / "send", associations=8, instances=504)
    archive = Archive(tmp_path / "data", db_url)
    node = DicomNode(archive, port=free_port(), analyse=False)
    node.start()
    try:
        _, codes = send_concurrently(groups, node.port)
    finally:
        node.stop()
    assert codes == [0] * 8
    assert archive.counts()["instances"] == 504
    assert archive.counts()["studies"] == 8
    # The node writes each object as received, with its own File Meta Information: compare
    # the data sets (SOP Instance UID → hash of the pixel data), and each file with its name.
    def content(path):
        ds = pydicom.dcmread(path)
        return ds.SOPInstanceUID, hashlib.sha256(ds.PixelData).hexdigest()

    sent = dict(content(p) for group in groups for p in group)
    objects = list(archive.objects.glob("*/*.dcm"))
    assert all(sha256_of(p) == p.stem for p in objects)
    assert dict(content(p) for p in objects) == sent
