// Flotilla dashboard: reads the scheduler's JSON API (docs/api.md) from the same origin every
// POLL_MS and draws the cluster, the workers, the team's jobs and one job's curves, plan and
// payments. Everything shown comes from the cluster and its workers, so it is written into the
// page as text (textContent), never as markup.
//
// The team token is kept in sessionStorage (gone when the tab closes). It can also be given in
// the address's fragment, #token=...&job=ID, which never reaches the server; the page moves it
// into sessionStorage and takes it out of the address.
'use strict';

(() => {
  const POLL_MS = 2000;
  const TOKEN_KEY = 'flotilla.token';
  const SVG = 'http://www.w3.org/2000/svg'; // a namespace name, never fetched

  const state = {
    token: sessionStorage.getItem(TOKEN_KEY),
    selected: null, // job id from the fragment, or the newest job
    details: new Map(), // job id -> {updatedAt, body}
    metrics: new Map(), // job id -> {steps, body}
    timer: null,
  };

  // ---- small DOM helpers ------------------------------------------------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') node.className = v;
      else node.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return node;
  }

  function $(id) {
    return document.getElementById(id);
  }

  function fillBody(table, rows, emptyText) {
    const body = $(table).tBodies[0];
    body.replaceChildren(...rows);
    if (rows.length === 0) {
      const columns = $(table).tHead ? $(table).tHead.rows[0]?.cells.length || 1 : 1;
      body.append(el('tr', {}, el('td', { colspan: columns, class: 'muted' }, emptyText)));
    }
  }

  const num = (v, digits) => (v === null || v === undefined || Number.isNaN(v) ? '–' : Number(v).toFixed(digits));
  const int = (v) => (v === null || v === undefined ? '–' : Math.round(v).toLocaleString('en-US'));

  function bytes(n) {
    if (!n) return '–';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) {
      n /= 1024;
      i++;
    }
    return `${n.toFixed(n >= 10 || i === 0 ? 0 : 1)} ${units[i]}`;
  }

  function amount(v) {
    // Amounts are decimals with at most 9 places (docs/ledger.md).
    return Number(v).toFixed(9).replace(/\.?0+$/, '');
  }

  function badge(text, kind) {
    return el('span', { class: `badge ${kind || ''}` }, text);
  }

  const STATE_KIND = {
    queued: 'warn', planned: 'info', running: 'info', paused: 'warn',
    completed: 'good', failed: 'bad', cancelled: '',
  };

  // ---- the API ----------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function api(path, withToken) {
    const headers = { Accept: 'application/json' };
    if (withToken) headers.Authorization = `Bearer ${state.token}`;
    const response = await fetch(path, { headers, cache: 'no-store' });
    let body = null;
    try {
      body = await response.json();
    } catch (e) {
      throw new ApiError(response.status, `${path} answered ${response.status} without JSON`);
    }
    if (!response.ok) {
      throw new ApiError(response.status, (body && body.error) || `${path} answered ${response.status}`);
    }
    return body;
  }

  // ---- the fragment and the token form ----------------------------------------------------

  function readFragment() {
    const params = new URLSearchParams(location.hash.slice(1));
    if (params.has('token')) {
      setToken(params.get('token'));
      params.delete('token');
      const rest = params.toString();
      history.replaceState(null, '', location.pathname + location.search + (rest ? `#${rest}` : ''));
    }
    state.selected = params.get('job') || state.selected;
  }

  function setToken(token) {
    state.token = token && token.trim() ? token.trim() : null;
    if (state.token) sessionStorage.setItem(TOKEN_KEY, state.token);
    else sessionStorage.removeItem(TOKEN_KEY);
    state.details.clear();
    state.metrics.clear();
  }

  $('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    setToken($('token').value);
    $('token').value = '';
    refreshNow();
  });
  $('forget').addEventListener('click', () => {
    setToken(null);
    refreshNow();
  });
  window.addEventListener('hashchange', () => {
    readFragment();
    refreshNow();
  });

  // ---- the cluster ------------------------------------------------------------------------

  function renderCluster(cluster) {
    const up = cluster.members.filter((m) => m.status === 'Up').length;
    const registered = cluster.workers.filter((w) => w.registered).length;
    const quarantined = cluster.workers.filter((w) => w.reputation.quarantined).length;
    $('summary').textContent =
      `${cluster.members.length} members (${up} up) · ${registered} workers registered` +
      (quarantined ? ` · ${quarantined} quarantined` : '') +
      ` · this node ${cluster.self}`;

    fillBody(
      'members',
      cluster.members.map((m) =>
        el(
          'tr',
          {},
          el('td', { class: 'mono', title: m.address }, hostPort(m.address),
            m.address === cluster.leader ? ' ' : null,
            m.address === cluster.leader ? badge('leader', 'info') : null),
          el('td', {}, m.roles.join(', ')),
          el('td', {}, badge(m.status, m.status === 'Up' ? 'good' : 'warn')),
          el('td', {}, m.reachable ? badge('yes', 'good') : badge('unreachable', 'bad')),
        ),
      ),
      'no members',
    );

    fillBody(
      'workers',
      cluster.workers.map((w) => {
        const c = w.capabilities || {};
        const r = w.reputation;
        const labels = Object.entries(c.labels || {}).map(([k, v]) => `${k}=${v}`).join(', ');
        let standing;
        if (r.quarantined) standing = [badge('quarantined', 'bad'), ' ', r.quarantine_reason];
        else if (!w.registered) standing = badge('left', '');
        else standing = badge('ok', 'good');
        return el(
          'tr',
          { 'data-worker': w.id },
          el('td', { class: 'mono' }, w.id),
          el('td', {}, c.backend || '–'),
          el('td', { class: 'num' }, c.cores ?? '–'),
          el('td', { class: 'num' }, bytes(c.memory_bytes)),
          el('td', { class: 'num' }, num(c.cpu_gflops, 1)),
          el('td', {}, c.gpu ? `${c.gpu.model} (${bytes(c.gpu.memory_bytes)})` : '–'),
          el('td', {}, labels || '–'),
          el('td', { class: 'mono', title: c.wallet_address || '' }, short(c.wallet_address)),
          el('td', { class: 'num' }, int(r.tasks_done)),
          el('td', { class: 'num' }, int(r.valid_results)),
          el('td', { class: 'num' }, int(r.invalid_results)),
          el('td', { class: 'num' }, int(r.consecutive_valid)),
          el('td', { class: 'wrap' }, standing),
        );
      }),
      'no workers have registered',
    );
  }

  // pekko://flotilla@10.0.0.5:7355 -> 10.0.0.5:7355 (the full address is the cell's title).
  function hostPort(address) {
    return address.replace(/^[a-z]+:\/\/[^@]*@/, '');
  }

  function short(address) {
    if (!address) return '–';
    return address.length > 14 ? `${address.slice(0, 8)}…${address.slice(-4)}` : address;
  }

  // ---- the team's jobs --------------------------------------------------------------------

  function renderJobs(jobs) {
    $('team').textContent = jobs.length ? `(team ${jobs[0].team})` : '';
    $('jobs-note').textContent = jobs.length ? '' : 'Your team has no jobs yet.';
    fillBody(
      'jobs',
      jobs
        .slice()
        .reverse()
        .map((j) =>
          el(
            'tr',
            { class: j.id === state.selected ? 'selected' : null, 'data-job': j.id },
            el('td', { class: 'mono' }, el('a', { href: `#job=${encodeURIComponent(j.id)}` }, j.id)),
            el('td', {}, j.name),
            el('td', {}, badge(j.state, STATE_KIND[j.state])),
            el('td', { class: 'num' }, `${int(j.steps_completed)} / ${int(j.total_steps)}`),
            el('td', { class: 'num' }, num(j.last_loss, 4)),
            el('td', { class: 'num' }, int(j.tokens_per_second)),
            el('td', { class: 'num' }, j.restarts),
            el('td', {}, (j.submitted_at || '').replace('T', ' ').replace(/\.\d+Z$/, 'Z')),
          ),
        ),
      'no jobs',
    );
  }

  function noJobs(message) {
    $('team').textContent = '';
    $('jobs-note').textContent = message;
    fillBody('jobs', [], 'no jobs to show');
    fillBody('payments', [], 'no payments to show');
    $('job-section').hidden = true;
  }

  /** Job details, fetched again only when a job's updated_at moved (payments change it too). */
  async function loadDetails(jobs) {
    await Promise.all(
      jobs.map(async (j) => {
        const cached = state.details.get(j.id);
        if (cached && cached.updatedAt === j.updated_at) return;
        const body = await api(`/jobs/${encodeURIComponent(j.id)}`, true);
        state.details.set(j.id, { updatedAt: j.updated_at, body });
      }),
    );
  }

  async function loadMetrics(job) {
    const cached = state.metrics.get(job.id);
    if (cached && cached.steps === job.steps_completed && cached.state === job.state) return cached.body;
    const body = await api(`/jobs/${encodeURIComponent(job.id)}/metrics`, true);
    state.metrics.set(job.id, { steps: job.steps_completed, state: job.state, body });
    return body;
  }

  // ---- one job ----------------------------------------------------------------------------

  function renderJob(job, metrics) {
    $('job-section').hidden = false;
    $('job-id').textContent = job.id;
    $('job-name').textContent = `${job.name} · ${job.state}`;
    const facts = [
      `${int(job.steps_completed)} of ${int(job.total_steps)} steps`,
      `last loss ${num(job.last_loss, 4)}`,
      `${int(job.tokens_per_second)} tokens/s`,
      `last step ${num(job.last_step_ms, 0)} ms`,
      `${int(job.tokens)} tokens trained`,
    ];
    if (job.checkpoint) facts.push(`checkpoint at step ${job.checkpoint.step}`);
    if (job.restarts) facts.push(`${job.restarts} restarts`);
    const reason = job.failure_reason || (job.waiting && job.waiting.reason);
    $('job-facts').replaceChildren(facts.join(' · '), reason ? el('br') : '', reason || '');

    const steps = metrics.steps || [];
    $('loss-chart').replaceChildren(
      lineChart('loss', steps.map((s) => [s.step, s.loss]), (v) => num(v, 4)),
    );
    $('throughput-chart').replaceChildren(
      lineChart('throughput', steps.map((s) => [s.step, s.tokens_per_second]), (v) => int(v)),
    );
    renderPlan(job.plan);
    renderJobWorkers(job);
  }

  function renderPlan(plan) {
    const table = $('plan');
    if (!plan) {
      $('plan-facts').textContent = 'Not placed yet.';
      table.tHead.replaceChildren();
      table.tBodies[0].replaceChildren();
      return;
    }
    $('plan-facts').textContent =
      `${plan.stages.length} stages × ${plan.replicas} replicas` +
      (plan.redundancy > 1 ? ` × ${plan.redundancy} copies` : '') +
      ` · ${plan.micro_batches} micro-batches · predicted step ${num(plan.predicted_step_seconds, 3)} s` +
      ` · bubble ${num(100 * plan.bubble_share, 0)}%`;
    const replicas = [...Array(plan.replicas).keys()];
    table.tHead.replaceChildren(
      el('tr', {}, el('th', {}, 'stage'), el('th', {}, 'layers'), el('th', { class: 'num' }, 'memory'),
        replicas.map((r) => el('th', {}, `replica ${r}`))),
    );
    table.tBodies[0].replaceChildren(
      ...plan.stages.map((s) =>
        el(
          'tr',
          { 'data-stage': s.index },
          el('td', {}, s.index),
          el('td', { title: (s.layer_names || []).join(', ') }, `${s.first_layer}–${s.last_layer}`),
          el('td', { class: 'num' }, bytes(s.memory_bytes)),
          replicas.map((r) =>
            el(
              'td',
              { class: 'mono' },
              s.workers
                .filter((p) => p.replica === r)
                .sort((a, b) => a.copy - b.copy)
                .map((p) =>
                  el('span', { class: 'worker', 'data-worker': p.worker_id },
                    p.worker_id, plan.redundancy > 1 ? ` (copy ${p.copy})` : ''),
                ),
            ),
          ),
        ),
      ),
    );
  }

  function renderJobWorkers(job) {
    const work = job.workers || {};
    const pay = (job.payments && job.payments.workers) || {};
    const currency = job.payments ? ` ${job.payments.currency}` : '';
    const ids = [...new Set([...Object.keys(work), ...Object.keys(pay)])].sort();
    fillBody(
      'job-workers',
      ids.map((id) =>
        el(
          'tr',
          { 'data-worker': id },
          el('td', { class: 'mono' }, id),
          el('td', { class: 'num' }, int(work[id]?.steps)),
          el('td', { class: 'num' }, num(work[id]?.compute_seconds, 1)),
          el('td', { class: 'num' }, num(work[id]?.idle_seconds, 1)),
          el('td', { class: 'num' }, int(pay[id]?.receipts ?? 0)),
          el('td', { class: 'num' }, pay[id] ? `${amount(pay[id].amount)}${currency}` : '–'),
        ),
      ),
      'no work recorded yet',
    );
  }

  // ---- payments over the team's jobs ------------------------------------------------------

  function renderPayments(jobs) {
    const byWorker = new Map(); // "worker|currency" -> totals
    for (const j of jobs) {
      const detail = state.details.get(j.id)?.body;
      const payments = detail && detail.payments;
      if (!payments) continue;
      for (const [id, p] of Object.entries(payments.workers || {})) {
        const key = `${id}|${payments.currency}`;
        const t = byWorker.get(key) || { id, currency: payments.currency, address: p.address, jobs: 0, receipts: 0, amount: 0 };
        t.jobs += 1;
        t.receipts += p.receipts;
        t.amount += Number(p.amount);
        t.address = p.address || t.address;
        byWorker.set(key, t);
      }
    }
    const rows = [...byWorker.values()].sort((a, b) => a.id.localeCompare(b.id) || a.currency.localeCompare(b.currency));
    fillBody(
      'payments',
      rows.map((t) =>
        el(
          'tr',
          { 'data-worker': t.id },
          el('td', { class: 'mono' }, t.id),
          el('td', { class: 'mono' }, t.address || '–'),
          el('td', { class: 'num' }, t.jobs),
          el('td', { class: 'num' }, int(t.receipts)),
          el('td', { class: 'num' }, `${amount(t.amount)} ${t.currency}`),
        ),
      ),
      'nothing paid yet',
    );
  }

  // ---- charts -----------------------------------------------------------------------------

  /** An SVG line chart of [x, y] points, with axes, ticks and the last value. */
  function lineChart(kind, points, format) {
    const W = 640, H = 220, L = 64, R = 14, T = 22, B = 30;
    const chart = svg('svg', {
      class: `chart ${kind}`, viewBox: `0 0 ${W} ${H}`, role: 'img',
      'data-series': kind, 'data-points': points.length,
    });
    points = points.filter(([, y]) => Number.isFinite(y));
    if (points.length === 0) {
      chart.append(svg('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle' }, 'no steps yet'));
      return chart;
    }
    const xs = points.map((p) => p[0]);
    const ys = points.map((p) => p[1]);
    let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
    if (x0 === x1) x1 = x0 + 1;
    let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
    if (y0 === y1) {
      const pad = Math.abs(y0) * 0.1 || 1;
      y0 -= pad;
      y1 += pad;
    }
    const yTicks = ticks(y0, y1, 5);
    y0 = Math.min(y0, yTicks[0]);
    y1 = Math.max(y1, yTicks[yTicks.length - 1]);
    const sx = (x) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
    const sy = (y) => H - B - ((y - y0) / (y1 - y0)) * (H - T - B);

    for (const t of yTicks) {
      chart.append(
        svg('line', { class: 'grid', x1: L, x2: W - R, y1: sy(t), y2: sy(t) }),
        svg('text', { x: L - 6, y: sy(t) + 4, 'text-anchor': 'end' }, format(t)),
      );
    }
    for (const t of ticks(x0, x1, 6).filter((t) => Number.isInteger(t))) {
      chart.append(svg('text', { x: sx(t), y: H - B + 16, 'text-anchor': 'middle' }, t));
    }
    chart.append(
      svg('line', { class: 'axis', x1: L, x2: L, y1: T, y2: H - B }),
      svg('line', { class: 'axis', x1: L, x2: W - R, y1: H - B, y2: H - B }),
      svg('text', { x: W - R, y: H - 4, 'text-anchor': 'end' }, 'step'),
      svg('polyline', { class: 'line', points: points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ') }),
    );
    if (points.length <= 120) {
      for (const [x, y] of points) {
        chart.append(svg('circle', { cx: sx(x), cy: sy(y), r: 2.5, 'data-step': x, 'data-value': y },
          svg('title', {}, `step ${x}: ${format(y)}`)));
      }
    }
    const [lx, ly] = points[points.length - 1];
    chart.append(svg('text', { class: 'value', x: W - R, y: T - 6, 'text-anchor': 'end' }, `step ${lx}: ${format(ly)}`));
    return chart;
  }

  /** About n round tick values covering [lo, hi]. */
  function ticks(lo, hi, n) {
    const raw = (hi - lo) / Math.max(1, n - 1);
    const mag = 10 ** Math.floor(Math.log10(raw));
    const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
    const out = [];
    for (let v = Math.floor(lo / step) * step; v <= hi + step * 1e-9; v += step) {
      out.push(Number(v.toPrecision(12)));
      if (out.length > 50) break;
    }
    if (out[out.length - 1] < hi) out.push(Number((out[out.length - 1] + step).toPrecision(12)));
    return out;
  }

  // ---- the loop ---------------------------------------------------------------------------

  function setStatus(text, isError) {
    $('status').textContent = text;
    $('status').className = isError ? 'error' : '';
  }

  async function refresh() {
    const problems = [];
    try {
      renderCluster(await api('/cluster', false));
    } catch (e) {
      problems.push(`cluster: ${e.message}`);
    }
    if (!state.token) {
      noJobs("Paste your team's token above to see its jobs.");
    } else {
      try {
        const jobs = (await api('/jobs', true)).jobs;
        if (!state.selected && jobs.length) state.selected = jobs[jobs.length - 1].id;
        renderJobs(jobs);
        await loadDetails(jobs);
        renderPayments(jobs);
        const selected = state.details.get(state.selected)?.body;
        if (selected) {
          const summary = jobs.find((j) => j.id === state.selected);
          renderJob(selected, await loadMetrics(summary));
        } else {
          $('job-section').hidden = true;
          if (state.selected) problems.push(`no job ${state.selected} for your team`);
        }
      } catch (e) {
        if (e.status === 401) noJobs(`The token was refused: ${e.message}`);
        problems.push(`jobs: ${e.message}`);
      }
    }
    if (problems.length) setStatus(problems.join(' · '), true);
    else setStatus(`Updated ${new Date().toLocaleTimeString('en-GB')}, every ${POLL_MS / 1000} s.`, false);
    document.body.dataset.state = 'ready';
  }

  let running = false;
  let again = false;

  /** One refresh at a time; a refresh asked for while one runs follows it at once. */
  async function loop() {
    clearTimeout(state.timer);
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      await refresh();
    } catch (e) {
      setStatus(`cannot refresh: ${e.message}`, true);
    } finally {
      running = false;
      state.timer = setTimeout(loop, again ? 0 : POLL_MS);
      again = false;
    }
  }

  function refreshNow() {
    loop();
  }

  readFragment();
  loop();
})();
