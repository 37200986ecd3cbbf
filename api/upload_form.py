"""Receive a ``multipart/form-data`` upload as a stream, with hard limits, straight into the store.

Starlette's form parser spools every file to a temporary file first and checks nothing while
it streams; here each file part goes into its own :class:`~callscope.store.audio_store.PendingFile`
as the bytes arrive and the request is cut off the moment a limit is passed: a file over
``max_upload_bytes``, more than ``max_files`` files, more than ``max_fields`` other fields, or a
field over ``max_field_bytes``. Nothing is kept in memory but the small text fields. On any
error every temporary file of the request is removed before the error is raised.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import HTTPException, Request
from python_multipart.multipart import MultipartParseError, MultipartParser, parse_options_header

from callscope.store.audio_store import AudioStore, PendingFile, TooLarge

FILE_FIELD = "files"


@dataclass
class ReceivedFile:
    """One file part: the name the client gave it (display only) and its bytes in the store."""

    filename: str | None
    pending: PendingFile


@dataclass
class ReceivedForm:
    fields: dict[str, str] = field(default_factory=dict)
    files: list[ReceivedFile] = field(default_factory=list)

    def discard(self) -> None:
        """Remove every temporary file not yet placed in the store."""
        for f in self.files:
            f.pending.discard()


@dataclass(frozen=True)
class FormLimits:
    max_upload_bytes: int
    max_files: int
    max_fields: int
    max_field_bytes: int


class _Receiver:
    """python-multipart callbacks that build a :class:`ReceivedForm` under :class:`FormLimits`."""

    def __init__(self, store: AudioStore, limits: FormLimits) -> None:
        self.store, self.limits = store, limits
        self.form = ReceivedForm()
        self.error: HTTPException | None = None
        self._header_name = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._name: str | None = None
        self._value = bytearray()
        self._file: ReceivedFile | None = None

    def _fail(self, status: int, message: str) -> None:
        if self.error is None:
            self.error = HTTPException(status, message)
        raise _Stop

    def on_part_begin(self) -> None:
        self._headers, self._name, self._file, self._value = {}, None, None, bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._header_name.strip().lower()] = self._header_value.strip()
        self._header_name, self._header_value = b"", b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = options.get(b"name")
        if name is None:
            self._fail(422, "a form part has no name (Content-Disposition: form-data; name=…)")
        self._name = (name or b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        if filename is not None or self._name == FILE_FIELD:
            if self._name != FILE_FIELD:
                self._fail(422, f"file part '{self._name[:40]}': files go in the '{FILE_FIELD}' field")
            if len(self.form.files) >= self.limits.max_files:
                self._fail(413, f"more than {self.limits.max_files} files in one request; the limit is {self.limits.max_files}")
            self._file = ReceivedFile(filename.decode("utf-8", "replace") if filename is not None else None,
                                      self.store.receive(self.limits.max_upload_bytes))
            self.form.files.append(self._file)
        elif len(self.form.fields) >= self.limits.max_fields:
            self._fail(413, f"more than {self.limits.max_fields} form fields in one request")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._file is not None:
            try:
                self._file.pending.write(data[start:end])
            except TooLarge:
                mb = self.limits.max_upload_bytes // (1024 * 1024)
                self._fail(413, f"{self._file.filename or 'a file'}: larger than the limit of {mb} MB")
        else:
            self._value += data[start:end]
            if len(self._value) > self.limits.max_field_bytes:
                self._fail(413, f"form field '{(self._name or '')[:40]}' is over {self.limits.max_field_bytes} bytes")

    def on_part_end(self) -> None:
        if self._file is not None:
            self._file.pending.finish()
        elif self._name is not None:
            if self._name in self.form.fields:
                self._fail(422, f"form field '{self._name[:40]}' is given twice")
            self.form.fields[self._name] = self._value.decode("utf-8", "replace")


class _Stop(Exception):
    """Raised inside a callback to stop parsing; the receiver holds the HTTP error."""


async def receive_form(request: Request, store: AudioStore, limits: FormLimits) -> ReceivedForm:
    """Stream the request's multipart body into the store under ``limits``.

    Raises:
        HTTPException: 415 (not multipart/form-data), 413 (a limit passed, checked as the body
            streams), 400 (malformed body), 422 (a part without a name, a file in another field);
            temporary files are removed first.
    """
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise HTTPException(415, "send the recordings as multipart/form-data (field 'files')")
    receiver = _Receiver(store, limits)
    callbacks = {name: getattr(receiver, name) for name in (
        "on_part_begin", "on_part_data", "on_part_end", "on_header_field", "on_header_value", "on_header_end",
        "on_headers_finished")}
    parser = MultipartParser(boundary, callbacks, max_header_size=16 * 1024)  # type: ignore[arg-type]  # a dict of the callbacks it names
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except _Stop:
        receiver.form.discard()
        assert receiver.error is not None  # _Stop is raised only after an error was set
        raise receiver.error from None
    except MultipartParseError as exc:
        receiver.form.discard()
        raise HTTPException(400, f"malformed multipart body: {exc}") from None
    except BaseException:
        receiver.form.discard()
        raise
    if receiver.error is not None:
        receiver.form.discard()
        raise receiver.error
    return receiver.form
