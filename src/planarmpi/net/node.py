"""The DICOM node: receive studies (C-ECHO, C-STORE), analyse them when complete, send the
report back (C-STORE).

A study is *complete* when no object of it has arrived for ``idle_seconds``; it is then
read from the archive, analysed, its outputs written to ``DATA/results/<uid>/`` and recorded
as a new analysis version, and its DICOM outputs (Encapsulated PDF, Comprehensive SR,
Secondary Capture) sent to the destination. Conformance: ``docs/conformance.md``.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydicom.uid import (
    BasicTextSRStorage,
    ComprehensiveSRStorage,
    EncapsulatedPDFStorage,
    EnhancedSRStorage,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    MultiFrameGrayscaleByteSecondaryCaptureImageStorage,
    MultiFrameGrayscaleWordSecondaryCaptureImageStorage,
    MultiFrameTrueColorSecondaryCaptureImageStorage,
    NuclearMedicineImageStorage,
    SecondaryCaptureImageStorage,
)
from pynetdicom import AE, evt
from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]

from planarmpi.errors import InvalidInputError
from planarmpi.store.archive import Archive

if TYPE_CHECKING:
    from planarmpi.analysis.pipeline import AnalysisOptions

__all__ = ["STORAGE_CLASSES", "Destination", "DicomNode", "send_files"]

log = logging.getLogger("planarmpi.node")

#: SOP classes the node stores; any other is refused at association negotiation.
STORAGE_CLASSES = (NuclearMedicineImageStorage, SecondaryCaptureImageStorage,
                   MultiFrameGrayscaleByteSecondaryCaptureImageStorage,
                   MultiFrameGrayscaleWordSecondaryCaptureImageStorage,
                   MultiFrameTrueColorSecondaryCaptureImageStorage, ComprehensiveSRStorage,
                   EnhancedSRStorage, BasicTextSRStorage, EncapsulatedPDFStorage)
_TRANSFER = [ExplicitVRLittleEndian, ImplicitVRLittleEndian]
#: C-STORE statuses (PS3.4 B.2.3).
SUCCESS, OUT_OF_RESOURCES, CANNOT_UNDERSTAND = 0x0000, 0xA700, 0xC000


@dataclass(frozen=True, slots=True)
class Destination:
    """Where results go: an AE title at a host and port."""

    ae_title: str
    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> Destination:
        """``AE@host:port``.

        Raises
        ------
        InvalidInputError
            For anything else.
        """
        try:
            ae, rest = text.split("@", 1)
            host, port = rest.rsplit(":", 1)
            dest = cls(ae.strip(), host.strip(), int(port))
        except ValueError:
            raise InvalidInputError(f"destination {text!r}: expected AE@host:port") from None
        if not 1 <= len(dest.ae_title) <= 16 or not 0 < dest.port < 65536:
            raise InvalidInputError(f"destination {text!r}: AE title of 1–16 characters and "
                                    "a port 1–65535 expected")
        return dest


def send_files(files: list[Path], dest: Destination, calling_ae: str = "PLANARMPI") -> int:
    """C-STORE ``files`` to ``dest``; returns how many were accepted.

    Raises
    ------
    ConnectionError
        When the association is refused or fails.
    """
    import pydicom

    datasets = [pydicom.dcmread(f) for f in files]
    ae = AE(ae_title=calling_ae)
    for sop_class in sorted({str(ds.SOPClassUID) for ds in datasets}):
        ae.add_requested_context(sop_class, _TRANSFER)
    assoc = ae.associate(dest.host, dest.port, ae_title=dest.ae_title)
    if not assoc.is_established:
        raise ConnectionError(f"{dest.ae_title}@{dest.host}:{dest.port} refused the "
                              "association")
    accepted = 0
    try:
        for ds in datasets:
            status = assoc.send_c_store(ds)
            if status and status.Status == SUCCESS:
                accepted += 1
    finally:
        assoc.release()
    return accepted


class DicomNode:
    """The DICOM node of a planarmpi archive.

    Parameters
    ----------
    archive : Archive
    ae_title : str
    host, port : str, int
        Where to listen (127.0.0.1 by default: expose it deliberately).
    idle_seconds : float
        A study is complete when nothing arrived for it for this long.
    destination : Destination, optional
        Where the report objects are sent (C-STORE) after each analysis.
    stow_url : str, optional
        A DICOMweb service the report objects are also sent to (STOW-RS).
    analyse : bool
        Analyse complete studies (off: store only).
    analysis : AnalysisOptions, optional
        The site's analysis settings (normal limits, perfusion settings); built-in without.
    """

    def __init__(self, archive: Archive, *, ae_title: str = "PLANARMPI",
                 host: str = "127.0.0.1", port: int = 11112, idle_seconds: float = 10.0,
                 destination: Destination | None = None, analyse: bool = True,
                 stow_url: str | None = None,
                 analysis: AnalysisOptions | None = None) -> None:
        self.archive = archive
        self.analysis = analysis
        self.ae_title = ae_title
        self.host, self.port = host, port
        self.idle = dt.timedelta(seconds=idle_seconds)
        self.destination = destination
        self.stow_url = stow_url
        self.analyse = analyse
        self._server: Any = None
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        # Complete studies are analysed by a small pool, so one long analysis does not hold
        # back the others; a study is never in the pool twice.
        from concurrent.futures import ThreadPoolExecutor

        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="planarmpi-analysis")
        self._busy: set[str] = set()
        self._busy_lock = threading.Lock()
        self.ae = AE(ae_title=ae_title)
        self.ae.maximum_associations = 16
        self.ae.add_supported_context(Verification)
        for sop_class in STORAGE_CLASSES:
            self.ae.add_supported_context(sop_class, _TRANSFER)

    # ------------------------------------------------------------------ service
    def start(self) -> None:
        """Listen (in background threads) and watch for complete studies."""
        self._server = self.ae.start_server(
            (self.host, self.port), block=False,
            evt_handlers=[(evt.EVT_C_STORE, self._on_store), (evt.EVT_C_ECHO, self._on_echo)])
        if self.analyse:
            self._watcher = threading.Thread(target=self._watch, name="planarmpi-complete",
                                             daemon=True)
            self._watcher.start()
        log.info("DICOM node %s listening on %s:%d", self.ae_title, self.host, self.port)

    def stop(self) -> None:
        """Stop listening and watching."""
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
        if self._watcher is not None:
            self._watcher.join(timeout=30)
        self._pool.shutdown(wait=True, cancel_futures=False)

    # ------------------------------------------------------------------ handlers
    @staticmethod
    def _on_echo(event: Any) -> int:
        return SUCCESS

    def _on_store(self, event: Any) -> int:
        requestor = event.assoc.requestor
        source = f"{requestor.ae_title}@{requestor.address}"
        try:
            data = event.encoded_dataset()
            outcome = self.archive.store(data, source=source)
        except InvalidInputError as exc:
            log.warning("C-STORE from %s refused: %s", source, exc)
            return CANNOT_UNDERSTAND
        except OSError as exc:
            log.error("C-STORE from %s could not be stored: %s", source, exc.strerror)
            return OUT_OF_RESOURCES
        if outcome.status == "conflict":
            log.warning("C-STORE from %s: SOP Instance %s already stored with other content; "
                        "kept the first", source, outcome.sop_instance_uid)
        return SUCCESS

    # ------------------------------------------------------------------ completion
    def _watch(self) -> None:
        while not self._stop.wait(min(1.0, self.idle.total_seconds() / 2 or 0.2)):
            try:
                for uid in self.archive.idle_studies(self.idle):
                    with self._busy_lock:
                        if uid in self._busy:
                            continue
                        self._busy.add(uid)
                    self.archive.set_status(uid, "complete")
                    self._pool.submit(self._process_then_release, uid)
            except Exception:
                log.exception("completion watcher")

    def _process_then_release(self, uid: str) -> None:
        try:
            self.process(uid)
        except Exception:  # logged: one study's failure must not stop the node
            log.exception("processing a complete study")
        finally:
            with self._busy_lock:
                self._busy.discard(uid)

    def process(self, study_instance_uid: str) -> str:
        """Analyse a complete study now, then send its report; returns the new status."""
        from planarmpi.store.processing import process_study

        done = process_study(self.archive, study_instance_uid, options=self.analysis)
        if done.status == "analysed" and self.destination is not None and done.folder:
            outputs = sorted(done.folder.glob("*.dcm"))
            try:
                sent = send_files(outputs, self.destination, self.ae_title)
                self.archive.audit("system", "sent", study_instance_uid,
                                   f"{sent}/{len(outputs)} objects to "
                                   f"{self.destination.ae_title}")
            except ConnectionError as exc:
                self.archive.audit("system", "send-failed", study_instance_uid, str(exc))
                log.warning("%s", exc)
        if done.status == "analysed" and self.stow_url and done.folder:
            from planarmpi.net.dicomweb import stow_files

            outputs = sorted(done.folder.glob("*.dcm"))
            try:
                sent = stow_files(outputs, self.stow_url)
                self.archive.audit("system", "sent-stow", study_instance_uid,
                                   f"{sent} objects to {self.stow_url}")
            except ConnectionError as exc:
                self.archive.audit("system", "send-failed", study_instance_uid, str(exc))
                log.warning("%s", exc)
        return done.status
