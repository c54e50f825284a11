"""Signature packets: the confirmed signatures of a petition as a CSV file or a printable PDF, built as jobs.

The CSV is PostgreSQL's own `COPY (SELECT ...) TO STDOUT WITH CSV HEADER`, streamed by psycopg2's copy_expert into
the file block by block: the rows never become Python objects, so memory stays flat at any size and the export
costs little more than COPY itself (bench/deliverables_csv.py). The SELECT does the cleaning in SQL:

- bidirectional controls and invisible characters are removed (a name cannot reorder the cells around it);
- a cell that starts with =, +, -, @, a tab or a carriage return is prefixed with an apostrophe, so a spreadsheet
  shows it as text instead of running it as a formula (the OWASP "CSV injection" advice).

The rows are ordered by country, region, confirmation time and id: the PDF's order. The rows' checksum is the
SHA-256 of the CSV without e-mail addresses in that order, printed on the PDF's cover, so a CSV export and a PDF
packet of the same moment can be checked against each other (`sha256sum packet.csv`).

Everything a job does is safe to repeat: the job runs inside one REPEATABLE READ transaction (one snapshot for the
checksum and the rows), holds an advisory lock so that a duplicate delivery of its task waits its turn and then
finds the job done, writes its file under a temporary name (deliverables.private_files) and only then marks the row
done. Progress (rows done of total) is written through a second connection, so the page sees it while the export's
own transaction is still open.
"""

import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Max, Min
from django.utils import timezone

from core.jobs import enqueue
from core.sanitize import strip_tags_to_text
from deliverables.models import JobState, PacketExport, PacketKind, PrivateDownload
from deliverables.pdf import BIDI_AND_INVISIBLE, clean_text, fit, fonts_register, page_size, wrap
from deliverables.private_files import atomic_private_file, private_delete, private_parts_remove, private_parts_sweep
from signatures.countries import country_name
from signatures.models import Signature, SignatureState

logger = logging.getLogger(__name__)

LOCK_NAMESPACE = 7_306  # pg_try_advisory_xact_lock(namespace, job id)


class PacketError(ValueError):
    """A packet that cannot be made; the message says why, for the organiser."""


# --- The rows, in SQL ----------------------------------------------------------------------------------------------


def _sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


_INVISIBLE = "E'" + "".join(f"\\u{ord(c):04x}" for c in BIDI_AND_INVISIBLE) + "'"
_INVISIBLE_CLASS = "'[" + "".join(f"\\u{ord(c):04x}" for c in BIDI_AND_INVISIBLE) + "]'"
_FORMULA_STARTS = "'=', '+', '-', '@', E'\\t', E'\\r'"


def _clean(column: str) -> str:
    return f"translate({column}, {_INVISIBLE}, '')"


def _safe(column: str) -> str:
    """A formula-like start (=, +, -, @, tab, carriage return) neutralised by an apostrophe."""
    return f"CASE WHEN left({column}, 1) IN ({_FORMULA_STARTS}) THEN '''' || {column} ELSE {column} END"


def _clean_rows_sql(*, petition_id: int, include_emails: bool) -> str:
    """Confirmed signatures in packet order, with invisible characters removed.

    translate() on every cell doubles the cost of the whole COPY (bench/README.md), so one regular expression per
    row finds the rare rows that need it, and only those are translated. OFFSET 0 keeps PostgreSQL from folding
    the subqueries together (which would evaluate the test once per reference). Sorting with the "C" collation is
    byte order: stable across servers, and cheaper than a linguistic sort.
    """
    table = Signature._meta.db_table
    email = ", email AS e" if include_emails else ""
    text = "first_name || last_name || town || region || postal_code" + (" || email" if include_emails else "")
    inner = (
        f"SELECT trim(first_name || ' ' || last_name) AS n, town AS t, region AS r, postal_code AS p, country, "
        f"date_trunc('second', created_at) AS s, date_trunc('second', confirmed_at) AS c{email}, "
        f"({text}) ~ {_INVISIBLE_CLASS} AS d FROM {table} "
        f"WHERE petition_id = {int(petition_id)} AND state = {_sql_literal(SignatureState.CONFIRMED)} "
        'ORDER BY country COLLATE "C", region COLLATE "C", confirmed_at, id OFFSET 0'
    )
    cleaned = ", ".join(f"CASE WHEN d THEN {_clean(x)} ELSE {x} END AS {x}" for x in ["n", "t", "r", "p"])
    email_cleaned = f", CASE WHEN d THEN {_clean('e')} ELSE e END AS e" if include_emails else ""
    return f"SELECT {cleaned}, country, s, c{email_cleaned} FROM ({inner}) AS a OFFSET 0"


CSV_COLUMNS = ["name", "town", "region", "country", "postal_code", "signed_at", "confirmed_at"]


def packet_rows_sql(*, petition_id: int, include_emails: bool = False) -> str:
    """The SELECT behind a CSV packet (and the rows' checksum): confirmed signatures in packet order, cleaned."""
    columns = [
        f"{_safe('n')} AS name",
        f"{_safe('t')} AS town",
        f"{_safe('r')} AS region",
        "country",
        f"{_safe('p')} AS postal_code",
        "s AS signed_at",
        "c AS confirmed_at",
    ]
    if include_emails:
        columns.append(f"{_safe('e')} AS email")
    inner = _clean_rows_sql(petition_id=petition_id, include_emails=include_emails)
    return f"SELECT {', '.join(columns)} FROM ({inner}) AS b"


def packet_copy_sql(*, petition_id: int, include_emails: bool = False) -> str:
    return f"COPY ({packet_rows_sql(petition_id=petition_id, include_emails=include_emails)}) TO STDOUT WITH CSV HEADER"


# --- Progress, through a connection of its own -----------------------------------------------------------------------


class JobProgress:
    """Writes a job's state and progress where the page can see it at once.

    Outside a transaction the export's reads run in one long transaction, so progress goes through a second,
    autocommitting connection. Inside one (a test's), it goes through the same connection.
    """

    def __init__(self, *, table: str, job_id: int, interval: float | None = None):
        self.table = table
        self.job_id = job_id
        self.interval = settings.VIGIL_EXPORT_PROGRESS_SECONDS if interval is None else interval
        self.shared = connection.in_atomic_block
        self._side = None
        self._last = 0.0

    def _cursor(self):
        if self.shared:
            return connection.cursor()
        if self._side is None:
            import psycopg2

            params = connections[DEFAULT_DB_ALIAS].get_connection_params()
            params.pop("cursor_factory", None)
            self._side = psycopg2.connect(**params)
            self._side.autocommit = True
        return self._side.cursor()

    def set(self, **fields) -> int:
        assignments = ", ".join(f"{name} = %s" for name in fields)
        with self._cursor() as cursor:
            cursor.execute(
                f"UPDATE {self.table} SET {assignments}, heartbeat_at = now() WHERE id = %s",
                [*fields.values(), self.job_id],
            )
            return cursor.rowcount

    def rows(self, done: int, *, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last >= self.interval:
            self._last = now
            self.set(rows_done=done)

    def close(self) -> None:
        if self._side is not None:
            self._side.close()
            self._side = None


class _CountingSink:
    """What copy_expert writes into: passes blocks on to the file being written, or only to a digest (the rows'
    checksum, with no file), counting rows for progress.

    Rows contain no raw line breaks outside quotes only if the data has none, so the count is of lines; it is used
    for the progress bar, never for the total, which comes from a count(*) in the same snapshot.
    """

    def __init__(self, target, digest, progress: JobProgress | None, total: int):
        self.target = target
        self.digest = digest
        self.progress = progress
        self.total = total
        self.lines = -1  # the header

    def write(self, data) -> None:
        if self.target is not None:
            self.target.write(data)
        if self.digest is not None:
            self.digest.update(data)
        self.lines += data.count(b"\n") if isinstance(data, bytes) else data.count("\n")
        if self.progress is not None:
            self.progress.rows(min(max(self.lines, 0), self.total))


def _raw_cursor():
    """psycopg2's own cursor (copy_expert), outside Django's debug wrapper."""
    connection.ensure_connection()
    return connection.connection.cursor()


def packet_rows_checksum(*, petition_id: int) -> str:
    """SHA-256 of the CSV without e-mail addresses, in packet order (what the PDF's cover prints)."""
    digest = hashlib.sha256()
    with _raw_cursor() as cursor:
        cursor.copy_expert(packet_copy_sql(petition_id=petition_id), _CountingSink(None, digest, None, 0))
    return digest.hexdigest()


# --- Requests ---------------------------------------------------------------------------------------------------------


def packet_may_include_emails(*, user, role: str) -> bool:
    """Signers' addresses go only to organisers of the petition whose account holds the permission."""
    return bool(
        user.is_superuser or (role in ("owner", "organiser") and user.has_perm("deliverables.export_signer_emails"))
    )


def packet_download_check(*, export: PacketExport, user, role: str) -> None:
    """Raise PacketError unless this user may download this packet: one with signers' addresses goes only to those
    who may ask for one (the same rule as packet_export_request)."""
    if export.include_emails and not packet_may_include_emails(user=user, role=role):
        raise PacketError("Your account may not download signers' e-mail addresses.")


def packet_export_request(
    *, petition, kind: str, include_emails: bool, by, role: str, now: datetime | None = None
) -> PacketExport:
    """Start a packet job; its task is queued once this transaction commits."""
    now = now or timezone.now()
    if kind not in PacketKind.values:
        raise PacketError("Choose a CSV or a PDF packet.")
    if include_emails and kind != PacketKind.CSV:
        raise PacketError("E-mail addresses go only into the CSV packet, never onto paper.")
    if include_emails and not packet_may_include_emails(user=by, role=role):
        raise PacketError("Your account may not export signers' e-mail addresses.")
    export = PacketExport.objects.create(
        petition=petition,
        kind=kind,
        include_emails=include_emails,
        requested_by=by,
        created_at=now,
        rows_total=Signature.objects.filter(petition=petition, state=SignatureState.CONFIRMED).count(),
    )
    packet_export_queue(export_id=export.pk)
    return export


def packet_export_queue(*, export_id: int) -> None:
    enqueue("deliverables.tasks.packet_export_task", export_id)


def packet_file_name(export: PacketExport) -> str:
    suffix = "-with-emails" if export.include_emails else ""
    return f"packets/{export.petition_id}/signatures-{export.petition.slug[:60]}-{export.pk}{suffix}.{export.kind}"


# --- The job --------------------------------------------------------------------------------------------------------


@dataclass
class _RunResult:
    rows: int
    size: int
    file_checksum: str
    rows_checksum: str


def packet_export_run(*, export_id: int, now: datetime | None = None) -> PacketExport | None:
    """Build the packet's file. Safe to run twice, at once or after a worker died: see the module's docstring."""
    export = PacketExport.objects.select_related("petition").filter(pk=export_id).first()
    if export is None or export.state in (JobState.DONE, JobState.EXPIRED):
        return export
    name = packet_file_name(export)
    progress = JobProgress(table=PacketExport._meta.db_table, job_id=export.pk)
    outer = connection.in_atomic_block
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                if not outer:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, export.pk])
                if not cursor.fetchone()[0]:
                    logger.info("Packet %s is being built by another worker", export.pk)
                    return export
            current = PacketExport.objects.filter(pk=export.pk).values_list("state", flat=True).first()
            if current in (JobState.DONE, JobState.EXPIRED, None):
                return export
            private_parts_remove(name)
            total = Signature.objects.filter(petition_id=export.petition_id, state=SignatureState.CONFIRMED).count()
            progress.set(
                state=JobState.RUNNING,
                started_at=timezone.now(),
                rows_total=total,
                rows_done=0,
                error="",
                attempts=export.attempts + 1,
            )
            if export.kind == PacketKind.CSV:
                result = _csv_write(export=export, name=name, total=total, progress=progress)
            else:
                result = _pdf_write(export=export, name=name, total=total, progress=progress, now=now)
        finished = now or timezone.now()
        progress.set(
            state=JobState.DONE,
            rows_total=result.rows,
            rows_done=result.rows,
            file_name=name,
            file_size=result.size,
            file_checksum=result.file_checksum,
            rows_checksum=result.rows_checksum,
            finished_at=finished,
            expires_at=finished + timedelta(days=settings.VIGIL_EXPORT_EXPIRY_DAYS),
        )
        logger.info("Packet %s ready: %s rows, %s bytes", export.pk, result.rows, result.size)
    finally:
        progress.close()
    export.refresh_from_db()
    return export


def packet_export_fail(*, export_id: int, error: str) -> None:
    """Record a permanent failure where the organiser sees it."""
    PacketExport.objects.filter(pk=export_id).exclude(state__in=[JobState.DONE, JobState.EXPIRED]).update(
        state=JobState.FAILED, error=error[:2000], finished_at=timezone.now()
    )


def _csv_write(*, export: PacketExport, name: str, total: int, progress: JobProgress) -> _RunResult:
    with atomic_private_file(name) as target:
        # The COPY holds the connection: progress goes through the side connection, or waits for the end.
        sink = _CountingSink(target, None, None if progress.shared else progress, total)
        with _raw_cursor() as cursor:
            cursor.copy_expert(
                packet_copy_sql(petition_id=export.petition_id, include_emails=export.include_emails),
                sink,
                size=1 << 16,
            )
        size = target.commit()
    file_checksum = target.sha256()
    rows_checksum = file_checksum if not export.include_emails else packet_rows_checksum(petition_id=export.petition_id)
    return _RunResult(rows=max(sink.lines, 0), size=size, file_checksum=file_checksum, rows_checksum=rows_checksum)


# --- The PDF ---------------------------------------------------------------------------------------------------------


def _pdf_rows_sql(petition_id: int) -> str:
    inner = _clean_rows_sql(petition_id=petition_id, include_emails=False)
    return f"SELECT n, t, r, country, p, s, c FROM ({inner}) AS b"


def _pdf_write(*, export: PacketExport, name: str, total: int, progress: JobProgress, now) -> _RunResult:
    from reportlab.pdfgen.canvas import Canvas

    petition = export.petition
    rows_checksum = packet_rows_checksum(petition_id=petition.pk)
    groups = _pdf_groups(petition.pk)
    span = (
        Signature.objects.filter(petition_id=petition.pk, state=SignatureState.CONFIRMED)
        .order_by()
        .aggregate(first=Min("created_at"), last=Max("confirmed_at"))
    )
    regular, bold = fonts_register()
    width, height = page_size()
    margin = 40

    with atomic_private_file(name) as target:
        canvas = Canvas(target, pagesize=(width, height), pageCompression=1, invariant=0)
        canvas.setTitle(f"Signatures: {clean_text(petition.title)}")
        canvas.setAuthor(settings.SITE_NAME)
        canvas.setCreator(settings.SITE_NAME)
        # Cover.
        y = height - margin - 20
        canvas.setFont(bold, 18)
        for line in wrap(clean_text(petition.title), width - 2 * margin, font=bold, size=18)[:3]:
            canvas.drawString(margin, y, line)
            y -= 24
        canvas.setFont(regular, 11)
        target_line = ", ".join(filter(None, [petition.target_name, petition.target_organisation]))
        generated = now or timezone.now()
        facts = [
            ("To", clean_text(target_line)),
            ("Ask", clean_text(petition.ask)),
            ("Confirmed signatures", f"{total:,}"),
            ("Signed between", _span_text(span)),
            ("Generated", f"{generated:%Y-%m-%d %H:%M} UTC"),
            ("Rows' SHA-256", rows_checksum),
        ]
        y -= 6
        for label, value in facts:
            canvas.setFont(bold, 10)
            canvas.drawString(margin, y, label)
            canvas.setFont(regular, 10)
            for line in wrap(value, width - 2 * margin - 130, font=regular, size=10)[:4]:
                canvas.drawString(margin + 130, y, line)
                y -= 14
            y -= 4
        canvas.setFont(regular, 8)
        note = (
            "The checksum is the SHA-256 of this packet's rows as the CSV export without e-mail addresses, "
            "in the same order (by country, region and time of confirmation)."
        )
        for line in wrap(note, width - 2 * margin, font=regular, size=8):
            canvas.drawString(margin, y, line)
            y -= 11
        y -= 10
        canvas.setFont(regular, 10)
        body = strip_tags_to_text(petition.body)
        for line in wrap(clean_text(body), width - 2 * margin, font=regular, size=10):
            if y < margin + 20:
                break
            canvas.drawString(margin, y, line)
            y -= 13
        _pdf_footer(canvas, width, margin, regular, f"Rows' SHA-256 {rows_checksum[:16]}…", total_form=True)
        canvas.showPage()
        # The table.
        count = _pdf_table(
            canvas,
            petition=petition,
            groups=groups,
            total=total,
            progress=progress,
            regular=regular,
            bold=bold,
            width=width,
            height=height,
            margin=margin,
            footer=f"Rows' SHA-256 {rows_checksum[:16]}…",
        )
        canvas.beginForm("page-total")
        canvas.setFont(regular, 7)
        canvas.drawString(0, 0, f"{canvas.getPageNumber() - 1:,}")  # showPage has moved on to the next number
        canvas.endForm()
        canvas.save()
        size = target.commit()
    return _RunResult(rows=count, size=size, file_checksum=target.sha256(), rows_checksum=rows_checksum)


def _span_text(span: dict) -> str:
    if not span["first"]:
        return "—"
    return f"{span['first']:%Y-%m-%d} and {span['last']:%Y-%m-%d}"


def _pdf_groups(petition_id: int) -> dict[tuple[str, str], int]:
    table = Signature._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT country, CASE WHEN region ~ {_INVISIBLE_CLASS} THEN {_clean('region')} ELSE region END, "
            f"count(*) FROM {table} WHERE petition_id = %s AND state = %s "
            "GROUP BY 1, 2",
            [petition_id, SignatureState.CONFIRMED],
        )
        groups: dict[tuple[str, str], int] = {}
        for country, region, n in cursor.fetchall():
            groups[(country, region)] = groups.get((country, region), 0) + n
            groups[(country, None)] = groups.get((country, None), 0) + n
    return groups


def _pdf_footer(canvas, width, margin, font, label: str, *, total_form: bool) -> None:
    canvas.setFont(font, 7)
    canvas.drawString(margin, margin - 18, label)
    text = f"{settings.SITE_NAME} · page {canvas.getPageNumber():,}"
    if total_form:
        canvas.drawRightString(width - margin - 24, margin - 18, f"{text} of")
        canvas.saveState()
        canvas.translate(width - margin - 20, margin - 18)
        canvas.doForm("page-total")
        canvas.restoreState()


def _pdf_table(canvas, *, petition, groups, total, progress, regular, bold, width, height, margin, footer) -> int:
    size, leading = 7.5, 10.5
    columns = [
        (margin + 38, "No.", "right"),
        (margin + 44, "Name", 150),
        (margin + 200, "Town", 110),
        (margin + 316, "Region", 90),
        (margin + 412, "Postal code", 48),
        (margin + 466, "Signed", 50),
    ]
    title = fit(f"Signatures: {clean_text(petition.title)}", width - 2 * margin, font=bold, size=9)
    top = height - margin
    bottom = margin + 6
    number = 0
    state = {"y": 0.0, "text": None}

    def page_start():
        canvas.setFont(bold, 9)
        canvas.drawString(margin, top, title)
        canvas.setFont(bold, size)
        y = top - 16
        for x, label, align in columns:
            if align == "right":
                canvas.drawRightString(x, y, label)
            else:
                canvas.drawString(x, y, label)
        canvas.setLineWidth(0.5)
        canvas.line(margin, y - 3, width - margin, y - 3)
        state["y"] = y - leading - 2
        state["text"] = canvas.beginText()
        state["text"].setFont(regular, size)

    def page_end():
        canvas.drawText(state["text"])
        _pdf_footer(canvas, width, margin, regular, footer, total_form=True)
        canvas.showPage()

    def heading(text: str, font: str, font_size: float):
        if state["y"] < bottom + 3 * leading:
            page_end()
            page_start()
        t = state["text"]
        t.setFont(font, font_size)
        t.setTextOrigin(margin, state["y"] - 2)
        t.textOut(text)
        t.setFont(regular, size)
        state["y"] -= leading + 4

    page_start()
    country_now, region_now = object(), object()
    name_w, town_w, region_w, postal_w = 150, 110, 90, 48
    x_name, x_town, x_region, x_postal, x_signed = (c[0] for c in columns[1:])
    with connection.connection.cursor(name=f"packet_{petition.pk}_{int(time.time())}") as cursor:
        cursor.itersize = settings.VIGIL_EXPORT_FETCH_ROWS
        cursor.execute(_pdf_rows_sql(petition.pk))
        for name, town, region, country, postal, signed, _confirmed in cursor:
            if country != country_now:
                country_now, region_now = country, object()
                heading(f"{country_name(country)} ({country}) · {groups.get((country, None), 0):,}", bold, 10)
            if region != region_now:
                region_now = region
                heading(f"{clean_text(region) or 'Region not given'} · {groups.get((country, region), 0):,}", bold, 8.5)
            if state["y"] < bottom:
                page_end()
                page_start()
            number += 1
            y = state["y"]
            t = state["text"]
            label = f"{number:,}"
            t.setTextOrigin(columns[0][0] - len(label) * size * 0.55, y)
            t.textOut(label)
            t.setTextOrigin(x_name, y)
            t.textOut(fit(name or "(anonymised)", name_w, font=regular, size=size))
            if town:
                t.setTextOrigin(x_town, y)
                t.textOut(fit(town, town_w, font=regular, size=size))
            if region:
                t.setTextOrigin(x_region, y)
                t.textOut(fit(region, region_w, font=regular, size=size))
            if postal:
                t.setTextOrigin(x_postal, y)
                t.textOut(fit(postal, postal_w, font=regular, size=size))
            t.setTextOrigin(x_signed, y)
            t.textOut(f"{signed:%Y-%m-%d}")
            state["y"] = y - leading
            if number % 1000 == 0:
                progress.rows(min(number, total))
    page_end()
    progress.rows(min(number, total), force=True)
    return number


# --- Downloads and expiry ------------------------------------------------------------------------------------------


def private_download_log(
    *, petition_id: int, user, kind: str, object_id: int, file_name: str, ip_hash: str = ""
) -> None:
    PrivateDownload.objects.create(
        petition_id=petition_id,
        user=user if getattr(user, "is_authenticated", False) else None,
        kind=kind,
        object_id=object_id,
        file_name=file_name,
        ip_hash=ip_hash,
    )


def packet_exports_expire(*, now: datetime | None = None) -> int:
    """Delete the files of packets past their expiry (the rows stay, marked expired) and leftover temporary files."""
    now = now or timezone.now()
    done = 0
    for export in PacketExport.objects.filter(state=JobState.DONE, expires_at__lte=now).only("pk", "file_name"):
        private_delete(export.file_name)
        done += PacketExport.objects.filter(pk=export.pk, state=JobState.DONE).update(
            state=JobState.EXPIRED, file_name=""
        )
    private_parts_sweep(older_than_seconds=settings.VIGIL_LONG_TASK_TIME_LIMIT + 3600)
    return done
