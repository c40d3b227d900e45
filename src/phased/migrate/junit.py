"""JUnit XML for a golden run, the format CI systems show as test results.

One ``<testcase>`` per scenario and arm (``classname`` ``golden.<mode>``);
a failed one carries every failure line; unused recordings are test cases of
their own, failed (or skipped under ``--warn-unused``).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from phased.migrate.golden import GoldenRun


def junit_xml(run: GoldenRun) -> str:
    """The run as a JUnit XML document."""
    suite = ET.Element("testsuite", name=f"phased golden {run.mode.value}")
    failures = skipped = 0
    for result in run.results:
        name = result.scenario.name + (f" [{result.arm}]" if result.arm else "")
        case = ET.SubElement(
            suite, "testcase", classname=f"golden.{run.mode.value}", name=name,
            file=result.scenario.path,
        )  # fmt: skip
        judged = result.arm in (None, "on")
        if not result.ok and judged:
            failures += 1
            lines = result.messages()
            node = ET.SubElement(case, "failure", message=lines[0] if lines else "failed")
            node.text = "\n".join(lines)
        elif not judged:
            text = [
                "\n".join(p["diff"]) or f"on: {p.get('on_error')} / off: {p.get('off_error')}"
                for p in run.parity
                if p["scenario"] == result.scenario.name
            ]
            out = ET.SubElement(case, "system-out")
            out.text = "parity with the on arm: " + ("\n".join(text) if text else "identical")
    for path in run.unused:
        case = ET.SubElement(suite, "testcase", classname="golden.unused", name=path)
        if run.warn_unused:
            skipped += 1
            ET.SubElement(case, "skipped", message="unused recording")
        else:
            failures += 1
            ET.SubElement(case, "failure", message=f"unused recording {path}")
    suite.set("tests", str(len(run.results) + len(run.unused)))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", str(skipped))
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"
