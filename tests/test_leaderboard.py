"""Leaderboard rendering from results files: rows, columns, best values, missing values, protocols."""

from __future__ import annotations

import csv
import io
import json
import math
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.test_leaderboard_fixtures import make_run, save, standard_results
from vbench_lite.cli import main as cli
from vbench_lite.cost import CostProfile
from vbench_lite.leaderboard import collect, fields, render_leaderboard, table, tables
from vbench_lite.results import SchemaError


def md_rows(text: str) -> dict[str, dict[str, str]]:
    """The Markdown leaderboard table (the first table of the page) -> {method: {header: cell}}."""
    lines = [ln for ln in text.split("\n\n")[1].splitlines() if ln.startswith("| ")]
    head = [h.strip() for h in lines[0].strip("|").split("|")]
    out = {}
    for ln in lines[1:]:
        cells = [c.strip() for c in ln.strip("|").split("|")]
        out[cells[0]] = dict(zip(head, cells))
    return out


@pytest.fixture
def results(tmp_path: Path) -> Path:
    return standard_results(tmp_path / "results")


def build(results: Path, **kw) -> table.Leaderboard:
    runs = collect.latest_eligible(collect.load_runs(results, suite="shapes"), **kw)
    return table.build(runs, suite="shapes")


def test_one_row_per_method_from_latest_eligible_run(results: Path) -> None:
    lb = build(results)
    assert [r.method_id for r in lb.rows] == ["baseline", "sned:s-32", "tpdiff"]
    rows = md_rows(tables.render_md(lb))
    # the newer partial run (FVD 2.0) and the older eligible run (FVD 1.0) are not picked
    assert rows["tpdiff"]["FVD↓"] == "**90.0** ± 5.0"
    assert rows["baseline"]["FVD↓"] == "100.0 ± 4.0"
    assert rows["tpdiff"]["GFLOPs↓"] == "200"
    assert rows["tpdiff"]["Latency (s)↓"] == "0.500"  # one contender besides the reference: no "best"
    assert rows["baseline"]["Latency (s)↓"] == "1.000"
    # the paired record with its interval, not baseline latency / method latency; the only contender: not bold
    assert rows["tpdiff"]["Speedup↑"] == "2.00× [1.90, 2.10]"
    assert rows["baseline"]["Speedup↑"] == "1.00×" and rows["sned:s-32"]["Speedup↑"] == "–"  # no pairs: no speedup
    assert rows["baseline"]["Params (M)↓"] == "2.000"
    assert rows["sned:s-32"]["Params (M)↓"] == "**0.800**"


def test_best_is_a_strict_best_among_the_methods_other_than_the_reference(results: Path) -> None:
    rows = md_rows(tables.render_md(build(results)))
    # KVD 0.02 / 0.03 / 0.05 is printed ×10³ with the factor in the header; the baseline's 20.0
    # is the lowest but the reference row never takes the bold
    assert rows["baseline"]["KVD×10³↓"] == "20.0 ± 2.0"
    assert rows["tpdiff"]["KVD×10³↓"] == "**30.0** ± 3.0"
    assert rows["tpdiff"]["Total↑"] == "**0.780**" and rows["baseline"]["Total↑"] == "0.800"
    assert rows["sned:s-32"]["GFLOPs↓"] == "**100**"
    assert rows["tpdiff"]["CLIPSIM↑"] == "0.310"  # the only non-reference value: not a "best"
    # the reference's own fidelity values (PSNR inf, SSIM 1) are not results: "ref"
    assert rows["baseline"]["PSNR↑"] == "ref" and rows["baseline"]["SSIM↑"] == "ref"
    assert rows["tpdiff"]["PSNR↑"] == "25.00"


def test_ties_at_the_printed_precision_are_not_bold(tmp_path: Path) -> None:
    root = tmp_path / "results"
    save(root, make_run("baseline", metrics={"fvd": (100.0, 4.0)}, params=2_000_000, nfe=60))
    save(root, make_run("tpdiff", metrics={"fvd": (90.01, 4.0)}, params=657_751, nfe=60))
    save(root, make_run("tpdiff", "no-align", metrics={"fvd": (89.99, 4.0)}, params=657_751, nfe=60))
    save(root, make_run("vdmini", metrics={"fvd": (95.0, 4.0)}, params=400_000, nfe=60))
    rows = md_rows(tables.render_md(build(root)))
    assert [rows[m]["NFE↓"] for m in rows] == ["60"] * 4  # all equal: nothing is best
    assert rows["vdmini"]["Params (M)↓"] == "**0.400**"
    assert rows["tpdiff"]["FVD↓"] == "90.0 ± 4.0" and rows["tpdiff:no-align"]["FVD↓"] == "90.0 ± 4.0"  # 90.0 = 90.0


def test_each_metric_prints_its_declared_digits_in_every_format(tmp_path: Path) -> None:
    root = tmp_path / "results"
    save(root, make_run("baseline", metrics={"fvd": (208.51, 22.94), "kvd": (223.2879, 32.1376), "clipsim": 0.77204,
                                             "fidelity_psnr": float("inf"), "fidelity_ssim": 1.0}, flops=13.138e9, latency=0.1634))
    save(root, make_run("tpdiff", metrics={"fvd": (266.99, 34.93), "kvd": (512.3286, 67.3774), "clipsim": 0.78046,
                                           "fidelity_psnr": 17.8634, "fidelity_ssim": 0.63765}, flops=8.0245e9, latency=0.1358))
    lb = build(root)
    rows = md_rows(tables.render_md(lb))
    assert rows["tpdiff"]["FVD↓"] == "267.0 ± 34.9"
    assert rows["tpdiff"]["KVD↓"] == "512 ± 67"  # 3 significant digits, no factor needed
    assert rows["tpdiff"]["CLIPSIM↑"] == "0.780" and rows["tpdiff"]["SSIM↑"] == "0.638"
    assert rows["tpdiff"]["GFLOPs↓"] == "8.02" and rows["baseline"]["GFLOPs↓"] == "13.14"
    by = {r["method"]: r for r in csv.DictReader(io.StringIO(tables.render_csv(lb)))}
    assert (by["tpdiff"]["fvd"], by["tpdiff"]["fvd_std"], by["tpdiff"]["kvd"]) == ("267.0", "34.9", "512")
    assert by["tpdiff"]["clipsim"] == "0.780" and by["baseline"]["psnr"] == "" and by["tpdiff"]["params_M"] == "1.00"
    tex = tables.render_tex(lb, intervals="inline")
    line = next(ln for ln in tex.splitlines() if ln.startswith("tpdiff"))
    assert r"267.0\,{\scriptsize $\pm$34.9}" in line and r"512\,{\scriptsize $\pm$67}" in line
    assert "0.780" in line and "17.86" in line
    page = tables.render_html(lb)
    assert "267.0 <small>± 34.9</small>" in page and "512 <small>± 67</small>" in page
    data = json.loads(tables.render_json(lb))
    assert data["rows"][1]["kvd"] == 512.3286 and data["rows"][0]["psnr"] is None  # full precision; ref: none


def test_missing_values_show_a_dash_never_zero(results: Path) -> None:
    lb = build(results)
    rows = md_rows(tables.render_md(lb))
    sned = rows["sned:s-32"]
    for header in ("NFE↓", "Latency (s)↓", "Speedup↑", "CLIPSIM↑", "PSNR↑", "SSIM↑", "Quality↑", "Semantic↑"):
        assert sned[header] == "–", header
    parsed = list(csv.DictReader(io.StringIO(tables.render_csv(lb))))
    by = {(r["method"], r["variant"]): r for r in parsed}
    assert by[("sned", "s-32")]["clipsim"] == "" and by[("sned", "s-32")]["latency_s"] == ""
    assert by[("baseline", "")]["psnr"] == ""  # the reference's own fidelity: not a result
    assert float(by[("tpdiff", "")]["fvd_std"]) == 5.0
    tex = tables.render_tex(lb)
    # the variant sits under the name in the stacked Method cell
    sned_line = next(ln for ln in tex.splitlines() if "sned:" in ln and "s-32" in ln)
    assert sned_line.count("--") >= 8 and " 0 " not in sned_line


def test_latex_uses_booktabs_and_escapes(results: Path) -> None:
    tex = tables.render_tex(build(results))
    for rule in (r"\toprule", r"\midrule", r"\bottomrule", r"\begin{tabular}{l" + "r" * 13 + "}", r"\cmidrule(lr){2-6}"):
        assert rule in tex
    # stacked by default: the std on a smaller second line, bold on the value only
    assert r"\begin{tabular}[t]{@{}r@{}}\textbf{90.0}\\[-2pt]{\scriptsize $\pm$5.0}\end{tabular}" in tex
    assert r"FVD$\downarrow$" in tex and r"CLIPSIM$\uparrow$" in tex and r"KVD$\times$10\textsuperscript{3}" in tex
    assert r"\multicolumn{5}{c}{Cost}" in tex and r"\multicolumn{2}{c}{Fidelity}" in tex
    assert r"vbench\_lite" in tex  # underscores escaped in the caption
    assert re.search(r"\\caption\{.*Latency: median seconds per video at batch 16 on cpu \(Test CPU, 2 threads\)", tex)
    base = next(ln for ln in tex.splitlines() if ln.startswith("baseline"))
    assert base.endswith("& -- & -- \\\\") and r"\infty" not in tex  # the reference's fidelity: --
    assert "Protocols: Table~\\ref{tab:vbench-lite-shapes-protocols}" in tex
    assert r"\textbf{}" not in tex and r"2.00$\times$\\[-2pt]{\scriptsize [1.90, 2.10]}" in tex  # the paired interval
    assert "weights" not in tex.split(r"\end{tabular}")[-1]  # no protocol dump under the table
    none = tables.render_tex(build(results), intervals="none")
    assert r"\pm" not in none.split(r"\toprule")[1] and "Intervals are omitted here" in none
    with pytest.raises(ValueError, match="unknown intervals style"):
        tables.render_tex(build(results), intervals="sideways")


def test_protocol_appendix_has_one_row_per_column(results: Path) -> None:
    lb = build(results)
    tex = tables.render_protocols_tex(lb)
    assert r"\label{tab:vbench-lite-shapes-protocols}" in tex
    fvd = next(ln for ln in tex.splitlines() if ln.startswith("FVD &"))
    assert r"\texttt{abababababab}" in fvd and "256 generated / 256 real" in fvd and "unbiased" in fvd
    assert any(ln.startswith("Latency (s) &") and "Test CPU" in ln for ln in tex.splitlines())
    data = json.loads(tables.render_json(lb))
    assert data["protocols"]["fvd"]["weights_sha256"] == "ab" * 32  # the full record
    assert data["protocols"]["latency_s"] == {"batch": 16, "device": "cpu", "hardware": "Test CPU", "threads": 2}


def test_caption_states_protocol_and_device(results: Path) -> None:
    lb = build(results)
    assert "eval split, 256 videos per method (16 frames at 32×32 px, 8 fps)" in lb.caption
    assert "on cpu (Test CPU, 2 threads)" in lb.caption
    assert "Noise floor" not in lb.caption  # no noise floor file: no claim
    md = tables.render_md(lb)
    assert "| FVD | 1 | shapes-video | abababababab | 16 | 32 px | 256 generated / 256 real | unbiased |" in md


def test_caption_explains_a_speedup_whose_reference_row_is_not_in_the_table(tmp_path: Path) -> None:
    root = tmp_path / "results"
    for name, sp in (("s-24", (2.7, 2.6, 2.8)), ("l-24", (1.8, 1.7, 1.9))):
        run = make_run("sned", name, metrics={"fvd": (400.0, 20.0)}, speedup=sp)
        run.profile.speedup["reference_generation"] = {"frames": 16, "resolution": 32, "fps": 8}
        save(root, run)
    lb = build(root)
    assert [r.method_id for r in lb.rows] == ["sned:l-24", "sned:s-24"]
    assert "Speedup: median baseline latency / median method latency" in lb.caption
    assert "(baseline making its own 32×32 px videos: the speedup of a video, not of a resolution)" in lb.caption
    assert "the baseline's own row is not in this table" in lb.caption
    assert md_rows(tables.render_md(lb))["sned:s-24"]["Speedup↑"] == "**2.70×** [2.60, 2.80]"
    # with the baseline's row and no other size, neither remark
    standard = build(standard_results(tmp_path / "standard"))
    assert "not in this table" not in standard.caption and "making its own" not in standard.caption


def test_noise_floor_in_caption(results: Path, tmp_path: Path) -> None:
    nf = tmp_path / "noise_floor_shapes.json"
    nf.write_text(json.dumps({"suite": "shapes", "draws": 5, "num_videos": 256,
                              "fvd": {"mean": 12.34, "std": 1.5}, "kvd": {"mean": 0.001, "std": 0.0005}}))
    floors = collect.load_noise_floor("shapes", path=nf)
    runs = collect.latest_eligible(collect.load_runs(results, suite="shapes"))
    lb = table.build(runs, suite="shapes", noise_floor=floors)
    assert "Noise floor (two disjoint draws of real videos; 256 videos per draw, 5 draws): " \
           "FVD 12.3 ± 1.5, KVD 1.0 ± 0.5." in lb.caption and "KVD is shown × 10^3." in lb.caption
    # another suite's floor is not shown; a floor of another detector is dropped
    assert collect.load_noise_floor("other", path=nf) == []
    nf.write_text(json.dumps({"suite": "shapes", "protocol": {"detector": "i3d"}, "fvd": 3.0}))
    lb = table.build(runs, suite="shapes", noise_floor=collect.load_noise_floor("shapes", path=nf))
    assert "Noise floor" not in lb.caption
    # the FVD metric's form: {"protocol": {"detector": <detector protocol>}}, compared field by field
    nf.write_text(json.dumps({"protocol": {"detector": {"detector": "shapes-video", "frames": 16}},
                              "fvd": {"mean": 7.0, "std": 0.5}}))
    lb = table.build(runs, suite="shapes", noise_floor=collect.load_noise_floor("shapes", path=nf))
    assert "FVD 7.0 ± 0.5" in lb.caption
    nf.write_text(json.dumps({"protocol": {"detector": {"detector": "shapes-video", "frames": 8}}, "fvd": 7.0}))
    lb = table.build(runs, suite="shapes", noise_floor=collect.load_noise_floor("shapes", path=nf))
    assert "Noise floor" not in lb.caption


def test_noise_floor_recorded_by_the_metric(tmp_path: Path) -> None:
    root = tmp_path / "results"
    for method, fvd in (("baseline", 100.0), ("tpdiff", 90.0)):
        run = make_run(method, metrics={"fvd": (fvd, 2.0)})
        run.metrics["fvd"].details["noise_floor"] = {"mean": 11.0, "std": 0.3, "draws": 4}
        save(root, run)
    out = tmp_path / "lb"
    render_leaderboard(root, out, formats=["md"], copy_results=False)
    assert "Noise floor (two disjoint draws of real videos; 4 draws): FVD 11.0 ± 0.3." in (out / "leaderboard.md").read_text()


def test_refuses_to_mix_protocols_in_one_column(results: Path) -> None:
    save(results, make_run("vdmini", metrics={"fvd": (80.0, 3.0)}, protocols={"fvd": {"detector": "i3d"}}))
    with pytest.raises(table.ProtocolMismatchError) as err:
        build(results)
    msg = str(err.value)
    assert "FVD↓ mixes protocols" in msg and "{baseline, sned:s-32, tpdiff} vs {vdmini}" in msg
    assert "detector" in msg and "--methods" in msg
    # filtering the rows makes the table well-defined again
    assert [r.method_id for r in build(results, exclude=["vdmini"]).rows] == ["baseline", "sned:s-32", "tpdiff"]
    assert [r.method_id for r in build(results, include=["vdmini"]).rows] == ["vdmini"]


def test_refuses_to_mix_latency_devices(results: Path) -> None:
    save(results, make_run("vdmini", metrics={}, latency=0.1, threads=8))
    with pytest.raises(table.ProtocolMismatchError, match=r"Latency \(s\)↓ mixes protocols.*threads"):
        build(results)


def test_cli_renders_every_format_and_rerenders_from_its_copies(results: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "lb"
    assert cli(["leaderboard", "--results", str(results), "--out", str(out)]) == 0
    for name in ("leaderboard.md", "leaderboard.csv", "leaderboard.tex", "leaderboard_protocols.tex",
                 "leaderboard.html", "leaderboard.json", "quality_vs_flops.png", "quality_vs_flops.pdf",
                 "quality_vs_speedup.png", "quality_vs_speedup.pdf"):
        assert (out / name).is_file(), name
    assert (out / "quality_vs_flops.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "quality_vs_flops.pdf").read_bytes()[:5] == b"%PDF-"
    assert not (out / "vbench_dimensions.png").exists()  # the fixtures record no VBench dimension
    copies = sorted(p.relative_to(out) for p in out.rglob("results.json"))
    assert len(copies) == 3 and all(p.parts[:2] == ("results", "shapes") for p in copies)
    printed = capsys.readouterr().out
    assert "| tpdiff |" in printed
    first = (out / "leaderboard.md").read_text()
    out2 = tmp_path / "lb2"
    assert cli(["leaderboard", "--results", str(out / "results"), "--out", str(out2), "--format", "md,png"]) == 0
    assert (out2 / "leaderboard.md").read_text() == first
    for name in ("quality_vs_flops.png", "quality_vs_speedup.pdf"):  # deterministic files
        assert (out2 / name).read_bytes() == (out / name).read_bytes(), name
    assert not (out2 / "leaderboard.csv").exists()
    capsys.readouterr()
    assert cli(["leaderboard", "--results", str(results), "--out", str(out2), "--format", "csv", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    rows = {r["method"]: r for r in data["rows"]}
    assert rows["baseline"]["psnr"] == "inf" and rows["sned:s-32"]["clipsim"] is None
    assert rows["tpdiff"]["speedup"] == 2.0 and rows["tpdiff"]["fvd_std"] == 5.0
    assert rows["tpdiff"]["speedup_interval"] == [1.9, 2.1] and "speedup_interval" not in rows["baseline"]


def test_cli_errors_exit_2_with_one_line(results: Path, tmp_path: Path, capsys) -> None:
    save(results, make_run("vdmini", metrics={"fvd": (80.0, 3.0)}, protocols={"fvd": {"frames": 32}}))
    assert cli(["leaderboard", "--results", str(results), "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "mixes protocols" in err and "frames" in err
    assert cli(["leaderboard", "--results", str(results), "--out", str(tmp_path / "x"), "--format", "md,pdf"]) == 2
    assert "unknown --format pdf" in capsys.readouterr().err
    assert cli(["leaderboard", "--results", str(tmp_path / "nowhere"), "--out", str(tmp_path / "x")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert cli(["leaderboard", "--results", str(results), "--suite", "nosuch", "--out", str(tmp_path / "x")]) == 2
    assert "no eligible results for suite 'nosuch'" in capsys.readouterr().err
    assert cli(["leaderboard", "--results", str(results), "--methods", "snapgen-v", "--out", str(tmp_path / "x")]) == 2
    assert "no eligible run for snapgen-v" in capsys.readouterr().err


def test_other_schema_version_is_reported_and_skipped(results: Path, tmp_path: Path, capsys, caplog) -> None:
    """One unreadable results file must not block the leaderboard (issue 21): it is named and skipped."""
    d = results / "shapes" / "future" / "r1"
    d.mkdir(parents=True)
    data = make_run("future").to_dict() | {"schema": "vbench_lite.results/3"}
    (d / "results.json").write_text(json.dumps(data))
    (results / "shapes" / "broken" / "r1").mkdir(parents=True)
    (results / "shapes" / "broken" / "r1" / "results.json").write_text('{"schema": "vbench_lite.results/1", "spec": [')
    with pytest.raises(SchemaError, match=r"results schema 'vbench_lite.results/3' is not supported"):
        collect.load_runs(results / "shapes" / "future")
    assert cli(["leaderboard", "--results", str(results), "--out", str(tmp_path / "x"), "--format", "md"]) == 0
    captured = capsys.readouterr()
    assert "future/r1/results.json" in caplog.text and "vbench_lite.results/1" in caplog.text
    assert "broken/r1/results.json" in caplog.text and "not valid JSON" in caplog.text
    assert "| tpdiff" in captured.out and "future" not in captured.out


def test_misspelt_baseline_is_an_error(results: Path, tmp_path: Path, capsys) -> None:
    """Issue 21: `--baseline basline` rendered a Speedup column of dashes without a word."""
    out = tmp_path / "x"
    assert cli(["leaderboard", "--results", str(results), "--out", str(out), "--baseline", "basline"]) == 2
    err = capsys.readouterr().err
    assert "--baseline 'basline' has no row in this table" in err and "Did you mean 'baseline'" in err
    assert not out.exists()


def test_latency_accessor_reads_the_v1_profile_forms() -> None:
    """A vbench_lite.profile/1 record (inside a results/1 file) is upgraded by CostProfile.from_dict."""
    run = make_run("baseline", latency=None)
    run.profile = CostProfile.from_dict({"latency": {"throughput": {"median_s": 8.0, "per": 16, "seconds_per_video": 0.5,
                                              "threads": 4, "device": "cpu"},
                               "interactive": {"median_s": 1.2, "per": 1, "seconds_per_video": 1.2}},
                   "flops": {"total": 3, "unit": "MAC"}})
    assert fields.latency(run) == 0.5
    assert fields.latency(run, batch=1) == 1.2
    assert fields.latency_setting(run) == {"batch": 16, "device": "cpu", "hardware": "Test CPU", "threads": 4}
    assert fields.flops(run) == 6.0  # FLOPs = 2 x MACs
    run.profile = CostProfile.from_dict({"latency": {"batch16": {"median_s_per_video": 0.25}, "device": "cuda",
                                                     "threads": 1}})
    assert fields.latency(run) == 0.25
    assert fields.latency_setting(run) == {"batch": 16, "device": "cuda", "threads": 1}  # env has no gpu name
    assert fields.latency(run, batch=1) is None
    run.profile = None
    assert fields.latency(run) is None and fields.flops(run) is None and fields.gflops(run) is None
    assert math.isinf(fields.metric_value(make_run("b", metrics={"psnr": float("inf")}), "psnr"))


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_html_sort_script_is_valid_javascript(results: Path, tmp_path: Path) -> None:
    page = tables.render_html(build(results))
    script = page.split("<script>", 1)[1].split("</script>", 1)[0]
    js = tmp_path / "sort.js"
    js.write_text(script)
    proc = subprocess.run(["node", "--check", str(js)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


# A minimal DOM with just what the sort script touches, filled from the rendered page.
_DOM_SHIM = """
const data = JSON.parse(process.argv[2]);
const handlers = [];
const tbody = { rows: data.rows.map(r => ({ id: r[0], cells: r.map(v => ({ getAttribute: () => v })) })),
                appendChild(r) { this.rows = this.rows.filter(x => x !== r).concat([r]); } };
const table = { tBodies: [tbody] };
const ths = data.headers.map(() => ({ attrs: {}, addEventListener(_, f) { handlers.push(f); },
  closest(sel) { return sel === "table" ? table : headerRow; },
  getAttribute(k) { return this.attrs[k] === undefined ? null : this.attrs[k]; },
  setAttribute(k, v) { this.attrs[k] = v; }, removeAttribute(k) { delete this.attrs[k]; } }));
const headerRow = { querySelectorAll: () => ths };
global.document = { querySelectorAll: () => ths };
eval(data.script);
const out = [];
for (const col of data.clicks) { handlers[col](); out.push(tbody.rows.map(r => r.id)); }
console.log(JSON.stringify(out));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_html_columns_sort_on_click(results: Path, tmp_path: Path) -> None:
    page = tables.render_html(build(results))
    script = page.split("<script>", 1)[1].split("</script>", 1)[0]
    page = page.split('<table class="leaderboard">', 1)[1].split("</table>", 1)[0]
    headers = re.findall(r'<th scope="col"[^>]*>(.*?)</th>', page)
    rows = [re.findall(r'<td data-sort="([^"]*)">', tr) for tr in re.findall(r"<tr>(<td.*?)</tr>", page)]
    fvd, clip, psnr = headers.index("FVD↓"), headers.index("CLIPSIM↑"), headers.index("PSNR↑")
    data = {"script": script, "headers": headers, "rows": rows, "clicks": [fvd, fvd, clip, clip, psnr]}
    shim = tmp_path / "shim.js"
    shim.write_text(_DOM_SHIM)
    proc = subprocess.run(["node", str(shim), json.dumps(data)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    orders = json.loads(proc.stdout)
    assert orders[0] == ["tpdiff", "baseline", "sned:s-32"]  # FVD ascending
    assert orders[1] == ["sned:s-32", "baseline", "tpdiff"]  # second click: descending
    assert orders[2] == ["baseline", "tpdiff", "sned:s-32"]  # CLIPSIM ascending, missing last
    assert orders[3] == ["tpdiff", "baseline", "sned:s-32"]  # descending, missing still last
    assert orders[4] == ["tpdiff", "baseline", "sned:s-32"]  # PSNR: 25 < inf, missing last


def test_include_ineligible_takes_partial_runs_and_says_so(results: Path, tmp_path: Path) -> None:
    done = render_leaderboard(results, tmp_path / "lb", formats=["md"], copy_results=False, eligible_only=False)
    rows = md_rows((tmp_path / "lb" / "leaderboard.md").read_text())
    assert rows["tpdiff"]["FVD↓"] == "**2.0** ± 0.1"  # the newest run, partial as it is
    assert "Not leaderboard-eligible (partial, validation or external runs): tpdiff." in done.leaderboard.caption
    assert "Not leaderboard-eligible" not in build(results).caption


def test_fidelity_metric_names_and_long_protocols(tmp_path: Path) -> None:
    """The fidelity metric records fidelity_psnr / fidelity_ssim; VBench protocols hold big dicts."""
    root = tmp_path / "results"
    constants = {f"dim{i}": {"min": 0.1 * i, "max": 1.0} for i in range(8)}
    for method, psnr, ssim in (("baseline", float("inf"), 1.0), ("tpdiff", 31.5, 0.93), ("vdmini", 28.0, 0.88)):
        save(root, make_run(method, metrics={"fidelity_psnr": psnr, "fidelity_ssim": ssim, "vbench_total": 0.8},
                            protocols={"vbench_total": {"constants": constants}}))
    lb = build(root)
    rows = md_rows(tables.render_md(lb))
    assert rows["baseline"]["PSNR↑"] == "ref" and rows["tpdiff"]["PSNR↑"] == "**31.50**"
    assert rows["vdmini"]["SSIM↑"] == "0.880" and rows["tpdiff"]["SSIM↑"] == "**0.930**"
    total_note = next(n for n in lb.protocol_notes if n.startswith("Total↑"))
    assert re.search(r"constants=\[8 entries, sha256 [0-9a-f]{8}\]", total_note) and len(total_note) < 200
