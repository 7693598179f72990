#!/usr/bin/env python3
"""The console in a real browser: Debian's chromium through /usr/bin/chromedriver (selenium).

Usage: console.py CONSOLE_URL SERVE_URL TOKEN AGENTVER   (run in the fixture repository)

Opens the history panel, compares v1 with the draft, edits the draft (the whole file and the
headline fields), restores v1 (the refusal on unsaved work, then the overwrite), saves a version
from the page's head and reads its time in the browser's time zone, pins a channel with the dropdown, changes split weights and checks the CLI
agrees; logs in to serve with the token, pages through calls filtered by version, finds the
stats chart and its table. axe-core (npm registry, tests only) runs on every page: no WCAG 2 AA
violation. Hostile values must not run: no alert, no injected element. With
AGENTVER_SCREENSHOTS=DIR, each page is saved as DIR/<name>.png.
"""
import json
import os
import pathlib
import subprocess
import sys

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

console, serve, token, agentver = sys.argv[1:5]
shots = os.environ.get("AGENTVER_SCREENSHOTS")
failures = []


def check(name, cond, detail=""):
    """Records a check; `detail` (a value, or a function giving one) is shown when it fails."""
    if not cond and callable(detail):
        detail = detail()
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else f": {detail}"))
    if not cond:
        failures.append(name)


def axe_source():
    """axe-core from the npm registry, cached under target/."""
    cache = pathlib.Path(__file__).resolve().parents[2] / "target" / "axe"
    js = cache / "package" / "axe.min.js"
    if not js.exists():
        cache.mkdir(parents=True, exist_ok=True)
        out = subprocess.run(["npm", "pack", "axe-core@4", "--silent"], cwd=cache, check=True,
                             capture_output=True, text=True).stdout.strip().splitlines()[-1]
        subprocess.run(["tar", "xzf", out, "package/axe.min.js"], cwd=cache, check=True)
    return js.read_text()


AXE = axe_source()


def browser():
    # A time zone that is not UTC, so the console's times are seen converted.
    os.environ["TZ"] = "Asia/Kolkata"
    options = webdriver.ChromeOptions()
    for a in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900",
              "--disable-gpu", "--force-prefers-reduced-motion"]:
        options.add_argument(a)
    options.binary_location = "/usr/bin/chromium"
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def no_alert(d, where):
    try:
        text = d.switch_to.alert.text
        d.switch_to.alert.dismiss()
        check(f"{where}: no script ran", False, f"an alert said {text!r}")
    except NoAlertPresentException:
        pass
    injected = d.execute_script("return document.querySelectorAll('img[onerror], img[src=x]').length")
    check(f"{where}: no injected element", injected == 0, f"{injected} injected images")


def audit(d, name):
    """axe-core at WCAG 2 A and AA on the page now shown, and a screenshot."""
    no_alert(d, name)
    d.execute_script(AXE)
    result = d.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
        ".then(r => done(r.violations.map(v => v.id + ': ' + v.nodes.length + ' ' + v.nodes[0].html)))"
        ".catch(e => done(['axe failed: ' + e]));")
    check(f"{name}: axe finds no WCAG 2 AA violation", not result, "; ".join(result))
    if shots:
        pathlib.Path(shots).mkdir(parents=True, exist_ok=True)
        d.save_screenshot(os.path.join(shots, f"{name}.png"))


def wait_for(d, text, seconds=15):
    """Whether `text` shows in the page within `seconds` (a click's navigation may be pending)."""
    try:
        WebDriverWait(d, seconds).until(lambda d: text in d.page_source)
        return True
    except TimeoutException:
        return False


def goto(d, url):
    """Opens `url` and waits until the browser shows it loaded (a same-document push from htmx
    just before can make a plain get return while the old page is still shown)."""
    d.get(url)
    try:
        WebDriverWait(d, 15).until(lambda d: d.current_url == url and
                                   d.execute_script("return document.readyState") == "complete")
    except TimeoutException:
        check(f"open {url}", False, lambda: where(d))


def where(d):
    """What the browser shows now, for a failed check's message."""
    h1 = d.find_elements(By.CSS_SELECTOR, "h1, h2")
    return f"at {d.current_url}, title {d.title!r}, h1 {h1[0].text if h1 else None!r}"


def cli(*args):
    return subprocess.run([agentver, *args], check=True, capture_output=True, text=True).stdout


d = browser()
d.set_script_timeout(30)
d.implicitly_wait(2)
try:
    # The agents page and the history panel.
    goto(d, console + "/")
    audit(d, "agents")
    d.find_element(By.LINK_TEXT, "sales").click()
    check("history: the draft on top", d.find_element(By.CSS_SELECTOR, ".history > li").text.startswith("Draft"))
    items = d.find_elements(By.CSS_SELECTOR, ".history > li .num")
    check("history: versions newest first", [i.text for i in items[:3]] == ["Draft", "v2", "v1"],
          [i.text for i in items])
    check("history: the hostile label is text", "<script>alert('label')</script>" in d.page_source.replace("&lt;", "<").replace("&gt;", ">")
          and d.find_elements(By.XPATH, "//script[contains(., 'label')]") == [])
    audit(d, "history")

    # Compare v1 with the draft, then change the sides in place (htmx).
    d.find_element(By.LINK_TEXT, "Compare v1 with the draft").click()
    check("compare: the changed field", wait_for(d, "llm.temperature"), lambda: where(d))
    Select(d.find_element(By.NAME, "to")).select_by_value("2")
    d.find_element(By.CSS_SELECTOR, "form.filters button").click()
    check("compare: the sides swap in place", wait_for(d, "sales: v1 → v2"), lambda: where(d))
    audit(d, "compare")

    # A version's configuration; a hostile prompt is text.
    goto(d, console + "/agents/sales/versions/v1")
    check("version: the tag", wait_for(d, "agent/sales/v1"), lambda: where(d))
    audit(d, "version")
    goto(d, console + "/agents/support/versions/v2")
    check("version: the hostile prompt shows as text",
          "<script>alert('prompt')</script>" in d.find_element(By.TAG_NAME, "main").text)
    audit(d, "version-hostile")

    # Edit the draft in the page: a typo is refused with check's words, then the fix is saved.
    goto(d, console + "/agents/sales")
    d.find_element(By.LINK_TEXT, "Edit the draft").click()
    check("editor: the file in a text area", wait_for(d, "Edit the draft of sales"), lambda: where(d))
    area = d.find_element(By.NAME, "text")
    original = area.get_attribute("value")
    d.execute_script("arguments[0].value = arguments[1]", area, original.replace("temperature: 0.5", "temprature: 0.5"))
    d.find_element(By.XPATH, "//button[normalize-space()='Save draft']").click()
    check("editor: a typo is refused with check's hint", wait_for(d, "did you mean"), lambda: where(d))
    check("editor: nothing written on refusal", "temperature: 0.5" in pathlib.Path("agents/sales.yaml").read_text())
    audit(d, "editor-refused")
    area = d.find_element(By.NAME, "text")
    d.execute_script("arguments[0].value = arguments[1]", area, original.replace("temperature: 0.5", "temperature: 0.55"))
    d.find_element(By.XPATH, "//button[normalize-space()='Save draft']").click()
    check("editor: saved, landing on the history", wait_for(d, "Saved agents/sales.yaml"), lambda: where(d))
    check("editor: the file holds the edit", "temperature: 0.55" in pathlib.Path("agents/sales.yaml").read_text())
    check("editor: the page says it is only local", "Only in this work tree" in d.page_source)
    audit(d, "editor-saved")

    # The headline fields: the voice changed in the form, the file's comments kept.
    d.find_element(By.LINK_TEXT, "Edit the draft").click()
    check("fields: the form", wait_for(d, "Headline fields"), lambda: where(d))
    voice = d.find_element(By.NAME, "speech.tts.voice_id")
    check("fields: the voice shown", voice.get_attribute("value") == "rachel", voice.get_attribute("value"))
    voice.clear()
    voice.send_keys("adam")
    audit(d, "editor-fields")
    d.find_element(By.XPATH, "//button[normalize-space()='Save these fields']").click()
    check("fields: saved", wait_for(d, "Saved speech.tts.voice_id in agents/sales.yaml"), lambda: where(d))
    text = pathlib.Path("agents/sales.yaml").read_text()
    check("fields: the file holds the voice, its comments kept",
          "voice_id: adam" in text and "# 0 to 2; lower keeps answers steady" in text and "temperature: 0.55" in text)

    # Restore v1 over unsaved work: the refusal, then the overwrite.
    path = pathlib.Path("agents/sales.yaml")
    path.write_text(path.read_text().replace("temperature: 0.55", "temperature: 0.8"))
    goto(d, console + "/agents/sales")
    d.find_element(By.XPATH, "//button[normalize-space()='Restore v1 into the draft']").click()
    check("restore: the refusal is shown", wait_for(d, "Overwrite the unsaved changes"), lambda: where(d))
    check("restore: nothing written on refusal", "temperature: 0.8" in path.read_text())
    audit(d, "restore-refused")
    d.find_element(By.XPATH, "//button[starts-with(normalize-space(), 'Overwrite the unsaved')]").click()
    check("restore: done", wait_for(d, "Restored sales v1"), lambda: where(d))
    check("restore: the file is v1's", path.read_bytes() == subprocess.run(
        ["git", "show", "agent/sales/v1:agents/sales.yaml"], check=True, capture_output=True).stdout)

    # Save version from the head of the version page (the restored draft differs from v2), then
    # roll back to v2.
    goto(d, console + "/agents/sales/versions/v2")
    d.find_element(By.XPATH, "//summary[normalize-space()='Save version']").click()
    d.find_element(By.NAME, "label").send_keys("From the browser")
    d.find_element(By.NAME, "notes").send_keys("Back to v1's prompt.")
    audit(d, "save-version")
    d.find_element(By.XPATH, "//button[normalize-space()='Save version']").click()
    check("save version: published", wait_for(d, "Published agent/sales/v3"), lambda: where(d))
    # The tests' clock is fixed (git dates 1 Nov 2026, 10:00 UTC): an old date, in the browser's zone.
    when = d.find_element(By.CSS_SELECTOR, ".history > li:nth-child(2) time")
    check("save version: the exact time in the browser's time zone", when.get_attribute("title").endswith("GMT+5:30"),
          when.get_attribute("title"))
    check("save version: the date in the browser's time zone", "3:30" in when.text and "UTC" not in when.text, when.text)
    log = json.loads(cli("log", "sales", "--json"))
    check("save version: the CLI agrees", log["versions"][0]["label"] == "From the browser"
          and log["versions"][0]["notes"] == "Back to v1's prompt.", log["versions"][0])
    goto(d, console + "/agents/sales")
    d.find_element(By.XPATH, "//button[normalize-space()='Roll back to v2']").click()
    check("roll back: published", wait_for(d, "Rolled back: agent/sales/v4"), lambda: where(d))
    tree = lambda rev: subprocess.run(["git", "rev-parse", rev + "^{tree}"], check=True, capture_output=True,
                                      text=True).stdout.strip()
    check("roll back: v4 holds v2's tree", tree("agent/sales/v4") == tree("agent/sales/v2"))

    # Pin a channel with the dropdown, then split weights.
    goto(d, console + "/channels")
    audit(d, "channels")
    row = d.find_element(By.XPATH, "//tr[th[normalize-space()='+14155550100']]")
    Select(row.find_element(By.NAME, "spec")).select_by_value("sales@v2")
    row.find_element(By.XPATH, ".//button[normalize-space()='Pin']").click()
    check("pin: done", wait_for(d, "Pinned +14155550100 to sales v2"), d.page_source[:400])
    channels = json.loads(cli("channels", "--json"))
    pinned = next(c for c in channels if c["channel"] == "+14155550100")
    check("pin: the CLI agrees", pinned["targets"][0]["pin"] == 2, pinned)
    goto(d, console + "/channels")
    row = d.find_element(By.XPATH, "//tr[th[normalize-space()='+14155550199']]")
    weights = row.find_elements(By.NAME, "weight")
    for w, value in zip(weights, ["30", "70"]):
        w.clear()
        w.send_keys(value)
    row.find_element(By.XPATH, ".//button[normalize-space()='Save the split']").click()
    check("weights: done", wait_for(d, "Split +14155550199"), lambda: where(d))
    channels = json.loads(cli("channels", "--json"))
    split = next(c for c in channels if c["channel"] == "+14155550199")
    check("weights: the CLI agrees", [t["weight"] for t in split["targets"]] == [30, 70], split)
    # Start an 80/20 A/B test on the pinned number, then change the test variant's version.
    goto(d, console + "/channels")
    row = d.find_element(By.XPATH, "//tr[th[normalize-space()='+14155550100']]")
    row.find_element(By.XPATH, ".//summary[normalize-space()='Start an A/B test']").click()
    split = row.find_element(By.CSS_SELECTOR, "form.split")
    Select(split.find_elements(By.NAME, "spec")[1]).select_by_value("sales@v1")
    for w, value in zip(split.find_elements(By.NAME, "weight"), ["80", "20"]):
        w.clear()
        w.send_keys(value)
    audit(d, "ab-start")
    split.find_element(By.XPATH, ".//button[normalize-space()='Save the split']").click()
    check("ab: started 80/20", wait_for(d, "Split +14155550100: control 80, test 20"), lambda: where(d))
    row = d.find_element(By.XPATH, "//tr[th[normalize-space()='+14155550100']]")
    Select(row.find_elements(By.NAME, "spec")[1]).select_by_value("sales@v3")
    row.find_element(By.XPATH, ".//button[normalize-space()='Save the split']").click()
    # The same note as before: wait for the new page, not the text.
    WebDriverWait(d, 15).until(expected_conditions.staleness_of(row))
    check("ab: the test variant changed", wait_for(d, "Split +14155550100"), lambda: where(d))
    ab = next(c for c in json.loads(cli("channels", "--json")) if c["channel"] == "+14155550100")
    check("ab: the CLI agrees", [(t["variant"], t["pin"], t["weight"]) for t in ab["targets"]]
          == [("control", 2, 80), ("test", 3, 20)], ab)
    audit(d, "channels-ab")

    tags = subprocess.run(["git", "tag", "-l", "agent/sales/*"], check=True, capture_output=True, text=True).stdout
    check("tags: git lists v1 to v4", set(tags.split()) == {f"agent/sales/v{n}" for n in range(1, 5)}, tags)

    # serve: the login, then calls filtered by version, paged.
    d.delete_all_cookies()
    d.get(serve + "/calls?agent=sales&version=1")
    check("serve: the login page first", "/login" in d.current_url, d.current_url)
    audit(d, "login")
    d.find_element(By.ID, "token").send_keys(token)
    d.find_element(By.XPATH, "//button[normalize-space()='Log in']").click()
    wait_for(d, "Older")
    rows = d.find_elements(By.CSS_SELECTOR, "tbody tr")
    check("serve: calls of v1 after the login", len(rows) == 50 and all("v1" in r.text for r in rows), len(rows))
    audit(d, "calls")
    d.find_element(By.LINK_TEXT, "Older").click()
    wait_for(d, "Page 2")
    rows = d.find_elements(By.CSS_SELECTOR, "tbody tr")
    check("serve: the second page", len(rows) == 30, len(rows))
    goto(d, serve + "/calls?agent=sales&version=2")
    d.find_element(By.PARTIAL_LINK_TEXT, "onerror").click()
    check("call: the record", wait_for(d, "Configuration that served it"), lambda: where(d))
    audit(d, "call")

    # The stats page: the chart, its title and its table.
    goto(d, serve + "/agents/sales/stats?by=variant&channel=%2B14155550199")
    svg = d.find_elements(By.CSS_SELECTOR, "svg.chart[role=img]")
    check("stats: charts drawn", len(svg) >= 2, len(svg))
    check("stats: the forest plot's title", "Success rate" in d.find_element(By.ID, "forest-t").get_attribute("textContent"))
    check("stats: the data table", "Figures per arm" in d.page_source and "control" in d.page_source)
    head = [th.text for th in d.find_elements(By.CSS_SELECTOR, "table th[scope=col]")]
    check("stats: cost, sentiment and the custom field compared", all(h in head for h in ["Mean cost", "Sentiment", "demo_booked"]), head)
    check("stats: the cost difference in its currency", " usd, 95% CI" in d.page_source)
    audit(d, "stats")
    d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
    audit(d, "stats-dark")
    d.set_window_size(390, 844)
    goto(d, serve + "/agents/sales")
    wide = d.execute_script("return document.documentElement.scrollWidth > window.innerWidth + 2")
    check("phone width: the history panel does not scroll sideways", not wide)
    audit(d, "history-phone")
    goto(d, console + "/channels")
    off = d.execute_script(
        "return [...document.querySelectorAll('main select, main button, main input:not([type=hidden])')]"
        ".filter(e => { const r = e.getBoundingClientRect(); return r.right > window.innerWidth + 1 || r.left < -1; })"
        ".map(e => e.name || e.textContent).slice(0, 5)")
    check("phone width: every control of the channels page is on screen", not off, off)
    audit(d, "channels-phone")
    goto(d, console + "/agents/sales/edit")
    audit(d, "editor-phone")
    goto(d, serve + "/agents/sales/stats?compare=1,2")
    audit(d, "stats-phone")
finally:
    d.quit()

if failures:
    print(f"browser: {len(failures)} checks failed")
    sys.exit(1)
print("browser: all checks passed")
