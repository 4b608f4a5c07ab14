"""The script and style ``report.html`` inlines (plain JavaScript, no framework, no network).

The item matrix is drawn from the JSON the page embeds (``#ladder-data``), ``pageRows`` rows at a time, so a
run of thousands of items keeps a light DOM; an answer's text and citations are built only when its
``<details>`` is opened. Every piece of run data reaches the DOM through ``textContent`` or an attribute
value, never as markup: an answer cannot inject HTML.

Opened with ``#check&fail=ARM&pass=ARM`` the page checks itself the way a person would use it (it clicks
its own buttons), times each step with ``performance.now()`` and writes the result as JSON into a hidden
``<pre id="eval-check">`` that ``make eval-check`` reads back from headless Chromium (ladder/headless.py).
"""

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5rem auto; max-width: 1500px; padding: 0 1rem;
       color: #1b1b1b; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; }
th, td { border: 1px solid #ccc; padding: .3rem .5rem; vertical-align: top; text-align: left; }
th { background: #f2f2f2; }
.numbers td:not(:first-child) { font-variant-numeric: tabular-nums; white-space: nowrap; }
.unknown { color: #8a4b00; font-style: italic; }
.figure svg { max-width: 100%; height: auto; }
#filters { position: sticky; top: 0; background: #fff; z-index: 2; padding: .5rem 0;
           border-bottom: 1px solid #ddd; display: flex; flex-wrap: wrap; gap: .4rem 1.2rem;
           align-items: center; }
#arm-filters { display: flex; flex-wrap: wrap; gap: .4rem 1rem; }
.arm-filter { white-space: nowrap; }
.arm-filter button, #reset, #more { font: inherit; border: 1px solid #999; background: #fff;
  padding: .1rem .5rem; cursor: pointer; }
.arm-filter button[aria-pressed="true"] { background: #1b4f8a; color: #fff; border-color: #1b4f8a; }
#matrix { width: 100%; table-layout: fixed; }
#matrix th { position: sticky; top: var(--filters-height, 3.2rem); cursor: pointer; user-select: none; }
#matrix th[aria-sort="ascending"]::after { content: " \\25B2"; }
#matrix th[aria-sort="descending"]::after { content: " \\25BC"; }
#matrix td { word-break: break-word; }
#matrix col.id { width: 9rem; } #matrix col.question { width: 22%; }
.badge { display: inline-block; font-weight: 600; font-size: 12px; padding: 0 .4rem; border-radius: 3px; }
.badge.pass { background: #dff3e4; color: #14532d; } .badge.fail { background: #fde2e1; color: #8b1c13; }
.badge.none { background: #eee; color: #555; }
.reasons { margin: .2rem 0; padding-left: 1.1rem; color: #8b1c13; }
.chips { font-size: 12px; color: #444; }
.chips span { margin-right: .6rem; white-space: nowrap; }
.tag { font-size: 12px; background: #eef; padding: 0 .3rem; margin-right: .3rem; border-radius: 3px; }
.answer { white-space: pre-wrap; margin: .3rem 0; }
.citations { font-size: 12px; padding-left: 1.2rem; }
.source { font-family: ui-monospace, monospace; }
#count { font-weight: 600; }
"""

SCRIPT = r"""
(function () {
  'use strict';
  const parseStart = performance.now();
  const DATA = JSON.parse(document.getElementById('ladder-data').textContent);
  const parseMs = performance.now() - parseStart;
  const arms = DATA.arms;
  const items = DATA.items;
  const checkLabels = Object.fromEntries(DATA.checks.map((m) => [m.key, m.label]));
  const scoreLabels = Object.fromEntries(DATA.scores.map((m) => [m.key, m.label]));
  items.forEach((item, index) => {
    item.index = index;
    const parts = [item.id, item.question, item.tags.join(' ')];
    for (const arm of arms) {
      const cell = item.cells[arm];
      if (cell.answer) parts.push(cell.answer);
      parts.push(...cell.reasons);
    }
    item.haystack = parts.join('\n').toLowerCase();
  });

  const state = {want: {}, by: 'any', disagree: false, tag: '', text: '', sort: null, desc: false,
                 shown: DATA.pageRows};
  let matches = items;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    for (const child of children) node.append(child);
    return node;
  }

  function verdict(cell) {
    if (cell.status === 'missing') return null;
    if (state.by === 'any') return cell.verdict;
    if (cell.status === 'error') return 'fail';
    const value = cell.checks[state.by];
    return value === true ? 'pass' : value === false ? 'fail' : null;
  }

  function keep(item) {
    for (const arm of arms) {
      const want = state.want[arm] || 'any';
      if (want !== 'any' && verdict(item.cells[arm]) !== want) return false;
    }
    if (state.disagree) {
      const seen = new Set(arms.map((arm) => verdict(item.cells[arm])).filter((v) => v));
      if (seen.size < 2) return false;
    }
    if (state.tag && !item.tags.includes(state.tag)) return false;
    if (state.text && !item.haystack.includes(state.text)) return false;
    return true;
  }

  const RANK = {fail: 0, pass: 1};
  function sortKey(item, column) {
    if (column === 'id') return [item.id];
    if (column === 'question') return [item.question];
    if (column === 'tags') return [item.tags.join(' ')];
    const cell = item.cells[column];
    const v = verdict(cell);
    return [v in RANK ? RANK[v] : 2, -cell.reasons.length];
  }
  function compare(a, b) {
    for (let i = 0; i < a.length; i++) {
      if (a[i] < b[i]) return -1;
      if (a[i] > b[i]) return 1;
    }
    return 0;
  }

  function apply() {
    matches = items.filter(keep);
    if (state.sort) {
      const direction = state.desc ? -1 : 1;
      const keyed = matches.map((item) => [sortKey(item, state.sort), item]);
      keyed.sort((a, b) => compare(a[0], b[0]) * direction || a[1].index - b[1].index);
      matches = keyed.map((pair) => pair[1]);
    }
    state.shown = DATA.pageRows;
    render();
  }

  const tbody = document.querySelector('#matrix tbody');
  const more = document.getElementById('more');
  const count = document.getElementById('count');

  function render(from) {
    // More rows of the same list are appended; any other change draws the list anew.
    const rows = matches.slice(from || 0, state.shown).map(row);
    if (from) tbody.append(...rows);
    else tbody.replaceChildren(...rows);
    count.textContent = matches.length + ' of ' + items.length + ' items';
    const left = matches.length - state.shown;
    more.hidden = left <= 0;
    more.textContent = 'Show ' + Math.min(left, DATA.pageRows) + ' more (' + left + ' not shown)';
  }

  function row(item) {
    const head = el('td', {}, item.id);
    if (!item.answerable) head.append(el('div', {class: 'tag'}, 'unanswerable'));
    const question = el('td', {}, item.question);
    if (item.tags.length) {
      question.append(el('div', {}, ...item.tags.map((tag) => el('span', {class: 'tag'}, tag))));
    }
    const tr = el('tr', {'data-id': item.id}, head, question);
    for (const arm of arms) tr.append(cellView(arm, item.cells[arm]));
    return tr;
  }

  function cellView(arm, cell) {
    const td = el('td', {'data-arm': arm});
    const v = cell.status === 'missing' ? null : cell.verdict;
    const label = cell.status === 'error' ? 'ERROR' : v === 'fail' ? 'FAIL' : v === 'pass' ? 'PASS'
      : 'not answered';
    td.append(el('span', {class: 'badge ' + (v || 'none')}, label));
    if (cell.status === 'missing') return td;
    if (cell.reasons.length) {
      td.append(el('ul', {class: 'reasons'}, ...cell.reasons.map((reason) => el('li', {}, reason))));
    }
    const chips = el('div', {class: 'chips'});
    for (const [key, value] of Object.entries(cell.checks)) {
      const mark = value ? '\u2713' : '\u2717';
      if (value !== null) chips.append(el('span', {}, checkLabels[key] + ' ' + mark));
    }
    for (const [key, value] of Object.entries(cell.scores)) {
      if (value !== null) chips.append(el('span', {}, scoreLabels[key] + ' ' + value.toFixed(2)));
    }
    for (const [key, value] of Object.entries(cell.judge || {})) {
      if (value !== null) chips.append(el('span', {}, 'judge ' + key + ' ' + Number(value).toFixed(2)));
    }
    if (cell.repeats > 1) chips.append(el('span', {}, cell.repeats + ' repeats'));
    td.append(chips);
    if (cell.answer !== null) {
      const details = el('details', {},
        el('summary', {}, 'answer (' + cell.answer.length + ' chars, ' + cell.citations.length +
          ' citations)'));
      details.addEventListener('toggle', () => {
        if (!details.open || details.dataset.filled) return;
        details.dataset.filled = '1';
        details.append(el('div', {class: 'answer'}, cell.answer));
        if (cell.citations.length) {
          details.append(el('ol', {class: 'citations'}, ...cell.citations.map((c) =>
            el('li', {}, el('span', {class: 'source'}, c.source), ' ', c.text))));
        }
      });
      td.append(details);
    }
    return td;
  }

  function controls() {
    const bar = document.getElementById('arm-filters');
    for (const arm of arms) {
      const group = el('span', {class: 'arm-filter', role: 'group', 'aria-label': arm});
      group.append(arm + ': ');
      for (const [want, text] of [['any', 'any'], ['fail', 'failed'], ['pass', 'passed']]) {
        const button = el('button', {type: 'button', 'data-arm': arm, 'data-want': want,
                                     'aria-pressed': String(want === 'any')}, text);
        button.addEventListener('click', () => {
          state.want[arm] = want;
          for (const other of group.querySelectorAll('button')) {
            other.setAttribute('aria-pressed', String(other === button));
          }
          apply();
        });
        group.append(button);
      }
      bar.append(group);
    }
    const by = document.getElementById('by');
    for (const check of DATA.checks) by.append(el('option', {value: check.key}, check.label));
    by.addEventListener('change', () => { state.by = by.value; apply(); });
    const disagree = document.getElementById('disagree');
    disagree.addEventListener('change', () => { state.disagree = disagree.checked; apply(); });
    const tag = document.getElementById('tag');
    const tags = [...new Set(items.flatMap((item) => item.tags))].sort();
    for (const name of tags) tag.append(el('option', {value: name}, name));
    tag.disabled = !tags.length;
    tag.addEventListener('change', () => { state.tag = tag.value; apply(); });
    const text = document.getElementById('text');
    text.addEventListener('input', () => { state.text = text.value.trim().toLowerCase(); apply(); });
    document.getElementById('reset').addEventListener('click', () => {
      for (const button of bar.querySelectorAll('button')) {
        button.setAttribute('aria-pressed', String(button.dataset.want === 'any'));
      }
      Object.assign(state, {want: {}, by: 'any', disagree: false, tag: '', text: '', sort: null,
                            desc: false});
      by.value = 'any'; disagree.checked = false; tag.value = ''; text.value = '';
      headers();
      apply();
    });
    for (const th of document.querySelectorAll('#matrix th')) {
      th.addEventListener('click', () => {
        const column = th.dataset.column;
        state.desc = state.sort === column ? !state.desc : false;
        state.sort = column;
        headers();
        apply();
      });
    }
    more.addEventListener('click', () => {
      const from = state.shown;
      state.shown += DATA.pageRows;
      render(from);
    });
    if ('IntersectionObserver' in window) {
      new IntersectionObserver((entries) => {
        if (entries.some((e) => e.isIntersecting) && !more.hidden) more.click();
      }).observe(more);
    }
  }

  function headers() {
    for (const th of document.querySelectorAll('#matrix th')) {
      const sorted = th.dataset.column === state.sort;
      th.setAttribute('aria-sort', sorted ? (state.desc ? 'descending' : 'ascending') : 'none');
    }
  }

  controls();
  // The column headers stick just below the filter bar, however many lines the bar wraps to.
  const filters = document.getElementById('filters');
  const stick = () => document.documentElement.style.setProperty('--filters-height',
                                                                filters.offsetHeight + 'px');
  window.addEventListener('resize', stick);
  stick();
  render();
  void document.body.offsetHeight;
  const loadMs = performance.now();
  const renderedAtLoad = tbody.rows.length;

  async function check(params) {
    const steps = [];
    const click = (selector) => document.querySelector(selector).click();
    const armButton = (arm, want) =>
      '#arm-filters button[data-arm="' + CSS.escape(arm) + '"][data-want="' + want + '"]';
    // Each step is timed TIMINGS times from a reset page: the median is what a person waits on a busy
    // machine, the fastest what the page itself costs.
    const TIMINGS = 5;
    const round = (ms) => Math.round(ms * 10) / 10;
    function step(name, action, armForWhy) {
      const times = [];
      for (let n = 0; n < TIMINGS; n++) {
        click('#reset');
        void document.body.offsetHeight;
        const start = performance.now();
        action();
        void document.body.offsetHeight;
        times.push(performance.now() - start);
      }
      times.sort((a, b) => a - b);
      const rendered = [...tbody.rows];
      const result = {name: name, ms: round(times[TIMINGS >> 1]), fastestMs: round(times[0]),
                      matches: matches.length, rendered: rendered.map((tr) => tr.dataset.id)};
      if (armForWhy) {
        result.whyShown = rendered.filter((tr) =>
          tr.querySelector('td[data-arm="' + CSS.escape(armForWhy) + '"] .reasons li')).length;
      }
      steps.push(result);
    }
    const fail = params.get('fail');
    const pass = params.get('pass');
    if (fail && pass) {
      step('failPass', () => { click(armButton(fail, 'fail')); click(armButton(pass, 'pass')); }, fail);
    }
    step('disagreements', () => click('#disagree'));
    if (params.get('tag') !== null) {
      step('tag', () => {
        const tag = document.getElementById('tag');
        tag.value = params.get('tag');
        tag.dispatchEvent(new Event('change'));
      });
    }
    if (params.get('text') !== null) {
      step('text', () => {
        const text = document.getElementById('text');
        text.value = params.get('text');
        text.dispatchEvent(new Event('input'));
      });
    }
    if (fail) step('sort', () => click('#matrix th[data-column="' + CSS.escape(fail) + '"]'));
    step('sortQuestionDown', () => {
      click('#matrix th[data-column="question"]');
      click('#matrix th[data-column="question"]');
    });
    if (fail && params.get('by') !== null) {
      step('judgedBy', () => {
        const by = document.getElementById('by');
        by.value = params.get('by');
        by.dispatchEvent(new Event('change'));
        click(armButton(fail, 'fail'));
      }, fail);
    }
    step('more', () => click('#more'));
    // Leave the page as a person would after the two clicks, every answer shown opened (the toggle
    // event that fills a <details> comes as a task of its own: wait for it).
    click('#reset');
    if (fail && pass) {
      click(armButton(fail, 'fail'));
      click(armButton(pass, 'pass'));
    }
    const summaries = [...document.querySelectorAll('#matrix summary')];
    for (const summary of summaries) summary.click();
    await new Promise((resolve) => setTimeout(resolve, 0));
    await new Promise((resolve) => setTimeout(resolve, 0));
    const out = el('pre', {id: 'eval-check', hidden: ''});
    out.textContent = JSON.stringify({viewportWidth: window.innerWidth, items: items.length,
      parseMs: Math.round(parseMs * 10) / 10, loadMs: Math.round(loadMs * 10) / 10,
      renderedAtLoad: renderedAtLoad, steps: steps, opened: summaries.length,
      answersShown: document.querySelectorAll('#matrix .answer').length,
      injected: document.querySelectorAll('[data-injected]').length, errors: window.ladderErrors});
    document.body.append(out);
  }

  const params = new URLSearchParams(location.hash.slice(1));
  if (params.has('check')) {
    check(params).catch((error) => {
      window.ladderErrors.push('check: ' + (error && error.message || error));
      const out = el('pre', {id: 'eval-check', hidden: ''});
      out.textContent = JSON.stringify({errors: window.ladderErrors, steps: []});
      document.body.append(out);
    });
  }
})();
"""
