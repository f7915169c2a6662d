"""bench/RESULTS.md is written by three scripts: the register benchmark writes the whole file and
must keep the sections the certificate benchmarks keep there between their markers."""

from __future__ import annotations

from pathlib import Path

from bench.results_file import write_results, write_section

PDF = "<!-- certificate_pdf.py: start -->\n## PDFs\n\n| a | b |\n<!-- certificate_pdf.py: end -->\n"
VERIFY = "<!-- certificate_verify.py: start -->\n## Verify\n<!-- certificate_verify.py: end -->\n"


def test_the_register_benchmark_keeps_the_other_scripts_sections(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    results.write_text("# Old register figures\n\n" + PDF + "\n" + VERIFY)
    write_results("# New register figures\n", results)
    assert results.read_text() == "# New register figures\n\n" + PDF + "\n" + VERIFY
    write_results("# Newer register figures\n", results)  # again: nothing doubled
    assert results.read_text() == "# Newer register figures\n\n" + PDF + "\n" + VERIFY


def test_a_section_is_replaced_in_place_and_the_first_one_added_at_the_end(
    tmp_path: Path,
) -> None:
    results = tmp_path / "RESULTS.md"
    write_results("# Register\n", results)  # no file yet
    start, end = "<!-- certificate_pdf.py: start -->", "<!-- certificate_pdf.py: end -->"
    write_section(PDF, results, start, end)
    write_section(VERIFY, results, "<!-- certificate_verify.py: start -->", VERIFY.split("\n")[-2])
    newer = PDF.replace("## PDFs", "## PDFs, again")
    write_section(newer, results, start, end)
    assert results.read_text() == "# Register\n\n" + newer + "\n" + VERIFY
