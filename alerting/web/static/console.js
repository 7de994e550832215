/* 值班台: the duty console. Plain browser JavaScript, no build step; talks to the alerting API. */
"use strict";
(() => {
  const LEVEL = { 1: "一级", 2: "二级", 3: "三级", 4: "四级" };
  const COLOUR = { 1: "#d7191c", 2: "#f08c00", 3: "#e6c200", 4: "#1f6fd1" };
  const KIND = { tank_farm: "危化品", coal_mine: "煤矿", tailings_dam: "尾矿库", vehicle: "车辆" };
  const ADMIN = { county: "县级", city: "市级", province: "省级" };
  const VERDICT = { real: "真实警情", false_alarm: "误报", sensor_fault: "传感器故障" };
  const TRANSITION = { raised: "发生", upgraded: "升级", downgraded: "降级", cleared: "解除" };
  const CHANNEL = { dingtalk: "钉钉", wecom: "企业微信", feishu: "飞书", sms: "短信", email: "邮件",
                    webhook: "Webhook", voice: "语音" };
  const $ = (s) => document.querySelector(s);
  const st = { me: null, alerts: new Map(), alarm: new Set(), drill: "exclude", events: null,
               map: null, layer: null, open: null };
  window.hwSounds = 0;

  const esc = (v) => String(v ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;",
    ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  const fmtTime = (ms) => ms ? new Date(ms).toLocaleString("zh-CN", { hour12: false }) : "";
  function age(ms) {
    const s = Math.max(0, Math.floor((Date.now() - ms) / 1000));
    if (s < 60) return `${s}秒`;
    if (s < 3600) return `${Math.floor(s / 60)}分${s % 60}秒`;
    return `${Math.floor(s / 3600)}小时${Math.floor((s % 3600) / 60)}分`;
  }

  async function api(method, path, body) {
    const headers = { "Accept": "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET" && st.me && st.me.csrf) headers["X-CSRF-Token"] = st.me.csrf;
    const r = await fetch(path, { method, headers, credentials: "same-origin",
                                  body: body === undefined ? undefined : JSON.stringify(body) });
    let data = null;
    try { data = await r.json(); } catch (e) { data = null; }
    if (r.status === 401 && path !== "/api/login") { showLogin(data && data.error); }
    if (!r.ok) throw new Error((data && data.error) || `HTTP ${r.status}`);
    return data;
  }

  function showLogin(msg) {
    if (st.events) { st.events.close(); st.events = null; }
    $("#app").hidden = true; $("#detail").hidden = true; $("#login").hidden = false;
    $("#login-error").textContent = msg && !/token/.test(msg) ? msg : "";
  }

  async function boot() {
    try { st.me = await api("GET", "/api/me"); } catch (e) { showLogin(); return; }
    $("#login").hidden = true; $("#app").hidden = false;
    $("#who").textContent = `${st.me.name}（${st.me.role}，范围：${st.me.scope}）`;
    await reload();
    connect();
  }

  async function reload() {
    const rows = await api("GET", `/api/warnings?drill=${st.drill}`);
    st.alerts = new Map(rows.map((r) => [r.warning.warning_id, r]));
    fillFilters(); render(); loadUnhandled();
    if (window.hwListShown == null) window.hwListShown = performance.now();  // bench/console.py
  }

  function connect() {
    if (st.events) st.events.close();
    const es = new EventSource(`/api/events?drill=${st.drill}`);
    st.events = es;
    es.addEventListener("hello", () => { $("#live").className = "live on"; });
    es.addEventListener("change", (ev) => {
      const d = JSON.parse(ev.data);
      for (const r of d.changed) {
        const wid = r.warning.warning_id, old = st.alerts.get(wid);
        if (!r.active) { st.alerts.delete(wid); st.alarm.delete(wid); continue; }
        const loud = r.level <= 2 && r.acked_at == null &&
          (!old || r.level < old.level || old.acked_at != null);
        st.alerts.set(wid, r);
        if (loud) { st.alarm.add(wid); beep(r.level); }
        if (r.acked_at != null) st.alarm.delete(wid);
      }
      for (const wid of d.gone) { st.alerts.delete(wid); st.alarm.delete(wid); }
      if (d.gone.length || d.changed.some((r) => !r.active)) soon(loadUnhandled);  // cleared, 督办 …
      fillFilters(); render();
      if (st.open && st.alerts.has(st.open)) openDetail(st.open, true);
    });
    es.onerror = () => { $("#live").className = "live off"; };
  }

  let audio = null;
  function beep(level) {
    window.hwSounds += 1;
    document.body.dataset.sounds = String(window.hwSounds);
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      const o = audio.createOscillator(), g = audio.createGain();
      o.frequency.value = level === 1 ? 880 : 660; o.type = "square";
      g.gain.value = 0.15; o.connect(g); g.connect(audio.destination);
      o.start(); o.stop(audio.currentTime + (level === 1 ? 0.9 : 0.5));
    } catch (e) { /* no audio device: the flashing row remains */ }
  }

  function filtered() {
    const lv = $("#f-level").value, kind = $("#f-kind").value, reg = $("#f-region").value.trim();
    const site = $("#f-site").value, comp = $("#f-company").value;
    return [...st.alerts.values()].filter((r) => {
      const w = r.where || {};
      return (!lv || String(r.level) === lv) && (!kind || w.kind === kind) &&
        (!reg || (w.region || "").startsWith(reg)) && (!site || w.site === site) &&
        (!comp || w.company === comp);
    }).sort((a, b) => a.level - b.level || b.opened_at - a.opened_at);
  }

  function fillFilters() {
    const sites = new Map(), comps = new Map();
    for (const r of st.alerts.values()) {
      const w = r.where || {};
      if (w.site) sites.set(w.site, w.name);
      if (w.company) comps.set(w.company, w.company_name || w.company);
    }
    for (const [sel, m, all] of [["#f-site", sites, "全部场所"], ["#f-company", comps, "全部企业"]]) {
      const cur = $(sel).value;
      $(sel).innerHTML = `<option value="">${all}</option>` + [...m].map(([k, v]) =>
        `<option value="${esc(k)}">${esc(v)}</option>`).join("");
      $(sel).value = m.has(cur) ? cur : "";
    }
  }

  function stateText(r) {
    if (r.closed_at) return `<span class="state-handled">已销号（${esc(r.closed_by)}）</span>`;
    if (r.handled_at && r.cleared_at) return `<span class="state-handled">已处置（${esc(r.handled_by)}），已解除，待销号</span>`;
    if (r.handled_at) return `<span class="state-handled">已处置（${esc(r.handled_by)}）</span>`;
    if (r.verified_at) return `<span class="state-acked">已核查：${esc(VERDICT[r.verdict] || r.verdict)}（${esc(r.verified_by)}）</span>`;
    if (r.acked_at) return `<span class="state-acked">已确认（${esc(r.acked_by)}）</span>`;
    return `<span class="state-open">未确认</span>`;
  }

  function valueText(w) {
    if (w.value == null) return "—";
    const u = w.unit || "";
    return w.threshold == null ? `${w.value}${u}` : `${w.value}${u} / ${w.threshold}${u}`;
  }

  function subject(r) {
    const w = r.warning, where = r.where || {};
    const what = w.vehicle_id ? "" : (w.sensor || w.plant_unit || w.device_id || "");
    return `${esc(where.name || w.site_id || w.vehicle_id)}${what ? " · " + esc(what) : ""}`;
  }

  function render() {
    const counts = { 1: 0, 2: 0, 3: 0, 4: 0 };
    for (const r of st.alerts.values()) counts[r.level] = (counts[r.level] || 0) + 1;
    $("#counts").innerHTML = [1, 2, 3, 4].map((l) =>
      `<span class="count lv${l}" data-level="${l}">${LEVEL[l]} ${counts[l]}</span>`).join("");
    const rows = filtered();
    $("#empty").hidden = rows.length > 0;
    $("#warnings tbody").innerHTML = rows.map((r) => {
      const w = r.warning, wid = esc(w.warning_id);
      const flash = st.alarm.has(w.warning_id) && r.acked_at == null ? " flash" : "";
      return `<tr data-wid="${wid}" data-level="${r.level}" class="lvrow${flash}">` +
        `<td><span class="badge lv${r.level}">${LEVEL[r.level]}</span>` +
        `${w.drill ? '<span class="drill-tag">演练</span>' : ""}` +
        `${supTag(r)}</td>` +
        `<td data-since="${r.opened_at}">${age(r.opened_at)}</td>` +
        `<td>${subject(r)}<br><small>${esc(KIND[(r.where || {}).kind] || "")}</small></td>` +
        `<td>${esc(valueText(w))}</td><td>${stateText(r)}</td><td>${esc(w.message)}</td></tr>`;
    }).join("");
  }

  setInterval(() => {  // the sound repeats every 10 s while a new 一级/二级 is unacknowledged
    const open = [...st.alarm].map((w) => st.alerts.get(w)).filter((r) => r && r.acked_at == null);
    if (open.length) beep(Math.min(...open.map((r) => r.level)));
  }, 10000);

  setInterval(() => {
    for (const td of document.querySelectorAll("td[data-since]")) td.textContent = age(+td.dataset.since);
  }, 1000);

  function spark(cols, values, threshold) {
    if (!values || !values.length) return "<p>该时段没有读数</p>";
    const vi = cols.indexOf("value"), t = values.map((v) => v[0]), y = values.map((v) => v[vi]);
    const lo = Math.min(...y, threshold ?? Infinity), hi = Math.max(...y, threshold ?? -Infinity);
    const X = (x) => 4 + ((x - t[0]) / Math.max(1, t[t.length - 1] - t[0])) * 592;
    const Y = (v) => 86 - ((v - lo) / Math.max(1e-9, hi - lo)) * 80;
    const pts = values.map((v) => `${X(v[0]).toFixed(1)},${Y(v[vi]).toFixed(1)}`).join(" ");
    const th = threshold == null ? "" : `<line x1="0" x2="600" y1="${Y(threshold)}" y2="${Y(threshold)}" stroke="#d7191c" stroke-dasharray="4"/>`;
    return `<svg class="spark" viewBox="0 0 600 90" preserveAspectRatio="none">${th}<polyline fill="none" stroke="#5fb3ff" stroke-width="2" points="${pts}"/></svg>`;
  }

  async function openDetail(wid, refresh) {
    st.open = wid;
    let r;
    try { r = await api("GET", `/api/warnings/${encodeURIComponent(wid)}`); }
    catch (e) { $("#detail-error").textContent = e.message; return; }
    const w = r.warning, where = r.where || {};
    const told = (r.notified || []).map((t) => `<li>${esc(t.person)}（${esc(t.receiver)}）· ` +
      `${esc(CHANNEL[t.channel.type] || t.channel.type)} · 已发送</li>`).join("") || "<li>尚无送达记录</li>";
    const ev = (w.evidence || []).map((e) => /\.(jpe?g|png)$/i.test(e.uri)
      ? `<a href="${esc(e.uri)}" target="_blank"><img src="${esc(e.uri)}" alt="证据" style="max-width:160px"></a>`
      : `<a href="${esc(e.uri)}" target="_blank">${esc(e.kind)}</a>`).join(" ") || "无";
    const acts = [];
    if (r.acked_at) acts.push(`<li>${fmtTime(r.acked_at)} ${esc(r.acked_by)} 确认</li>`);
    if (r.verified_at) acts.push(`<li>${fmtTime(r.verified_at)} ${esc(r.verified_by)} 核查反馈：${esc(VERDICT[r.verdict] || r.verdict)}${r.verify_note ? "（" + esc(r.verify_note) + "）" : ""}</li>`);
    if (r.handled_at) acts.push(`<li>${fmtTime(r.handled_at)} ${esc(r.handled_by)} 处置：原因「${esc(r.cause)}」，措施「${esc(r.action)}」${r.verdict ? "，核查结论：" + esc(VERDICT[r.verdict] || r.verdict) : ""}</li>`);
    $("#detail-body").innerHTML =
      `<h2><span class="badge lv${r.level}">${LEVEL[r.level]}</span> ${subject(r)}` +
      `${w.drill ? ' <span class="drill-tag">演练</span>' : ""}</h2>` +
      `<dl><dt>内容</dt><dd>${esc(w.message)}</dd><dt>类型</dt><dd>${esc(KIND[where.kind] || "")}</dd>` +
      `<dt>数值/阈值</dt><dd>${esc(valueText(w))}</dd><dt>规则</dt><dd>${esc(w.rule)}</dd>` +
      `<dt>开始</dt><dd>${fmtTime(w.started_at)}（${age(r.opened_at)}前）</dd>` +
      `<dt>状态</dt><dd id="detail-state">${stateText(r)}</dd><dt>证据</dt><dd>${ev}</dd></dl>` +
      `<h3>状态变化</h3><ul id="detail-transitions"><li>加载中…</li></ul>` +
      `<h3>${w.vehicle_id ? "轨迹" : "读数"}（前后）</h3><div id="detail-series">加载中…</div>` +
      `${(r.supervisions || []).length ? `<h3>督办</h3><ul id="detail-supervisions">${r.supervisions.map((x) =>
        `<li>${fmtTime(x.opened_at)} ${esc(ADMIN[x.admin] || x.admin)}${x.by_hand ? "人工" : ""}督办 → ${esc(x.to_region)}，` +
        `期限 ${fmtTime(x.deadline)}，${x.answered_at ? "已答复 " + fmtTime(x.answered_at) : "待答复"}</li>`).join("")}</ul>` : ""}` +
      `<h3>通知</h3><ul id="detail-notified">${told}</ul>` +
      `<h3>操作记录</h3><ul id="detail-log">${acts.join("") || "<li>尚无操作</li>"}</ul>`;
    const perms = st.me.perms || [];
    $("#btn-ack").hidden = !perms.includes("ack") || r.acked_at != null;
    $("#resolve-form").hidden = !perms.includes("resolve") || r.handled_at != null;
    $("#verify-form").hidden = !perms.includes("resolve") || r.handled_at != null || r.verified_at != null;
    $("#silence-form").hidden = !perms.includes("silence");
    $("#supervise-form").hidden = !perms.includes("supervise") || r.handled_at != null || r.closed_at != null;
    $("#btn-close").hidden = !perms.includes("close") || r.handled_at == null || r.closed_at != null;
    $("#silence-scope").innerHTML = w.vehicle_id
      ? `<option value="vehicle:${esc(w.vehicle_id)}">车辆 ${esc(where.name)}</option>`
      : `<option value="site:${esc(w.site_id)}">场所 ${esc(where.name)}</option>`;
    if (!refresh) $("#detail-error").textContent = "";
    $("#detail").hidden = false;
    try {
      const h = await api("GET", `/api/warnings/${encodeURIComponent(wid)}/history`);
      const tc = h.columns.transitions || [];
      $("#detail-transitions").innerHTML = (h.transitions || []).map((v) =>
        `<li>${fmtTime(v[0])} ${esc(TRANSITION[v[tc.indexOf("transition")]] || v[tc.indexOf("transition")])} ${LEVEL[v[tc.indexOf("level_value")]] || ""}</li>`
      ).join("") || `<li>${esc(h.error || "无记录")}</li>`;
      const ec = h.columns.events || [], col = (v, k) => v[ec.indexOf(k)];
      const STATUS = { notified: "已发送", notify_failed: "发送失败", suppressed: "未发送" };
      const sends = (h.events || []).filter((v) => STATUS[col(v, "action")]);
      if (sends.length) {
        $("#detail-notified").dataset.source = "influx";
        $("#detail-notified").innerHTML = sends.map((v) => `<li>${fmtTime(v[0])} ${esc(col(v, "person"))}` +
          `（${esc(col(v, "receiver"))}）· ${esc(CHANNEL[col(v, "channel")] || col(v, "channel"))} · ` +
          `${STATUS[col(v, "action")]}${col(v, "reason") ? "（" + esc(col(v, "reason")) + "）" : ""}</li>`).join("");
      }
      const WHAT = { ack: "确认", verify: "核查反馈", resolve: "处置", silence: "静默", silence_end: "结束静默", audit: "操作" };
      const acts2 = (h.events || []).filter((v) => ["ack", "verify", "resolve"].includes(col(v, "action")));
      if (acts2.length >= acts.length && acts2.length) {  // the sink may lag the service
        $("#detail-log").innerHTML = acts2.map((v) => `<li>${fmtTime(v[0])} ${esc(col(v, "who"))} ` +
          `${WHAT[col(v, "action")]}${col(v, "cause") ? `：原因「${esc(col(v, "cause"))}」，措施「${esc(col(v, "taken"))}」` : ""}` +
          `${col(v, "verdict") ? "，核查结论：" + esc(VERDICT[col(v, "verdict")] || col(v, "verdict")) : ""}</li>`).join("");
      }
      if (h.track) $("#detail-series").innerHTML = `<p>${h.track.length} 个定位点</p>`;
      else $("#detail-series").innerHTML = h.error ? esc(h.error) : spark(h.columns.readings || [], h.readings, w.threshold);
    } catch (e) { $("#detail-series").textContent = e.message; }
  }

  async function act(path, body) {
    $("#detail-error").textContent = "";
    try {
      const a = await api("POST", path, body);
      const cur = st.alerts.get(a.warning.warning_id);
      if (cur) st.alerts.set(a.warning.warning_id, { ...cur, ...a });
      if (a.acked_at != null) st.alarm.delete(a.warning.warning_id);
      render(); await openDetail(a.warning.warning_id, true);
      if (a.cleared_at != null) { loadUnhandled(); if (!$("#tab-closing").hidden) loadClosing(); }
      return a;
    } catch (e) { $("#detail-error").textContent = e.message; return null; }
  }

  async function loadMap() {
    const d = await api("GET", `/api/map?drill=${st.drill}`);
    if (!st.map) {
      st.map = L.map("map", { attributionControl: false });
      if (st.me.tile_url) L.tileLayer(st.me.tile_url, { maxZoom: 18 }).addTo(st.map);
    }
    if (st.layer) st.layer.remove();
    st.layer = L.layerGroup().addTo(st.map);
    const pts = [];
    for (const s of d.sites) {
      const c = s.level ? COLOUR[s.level] : "#7d8a99";
      L.circleMarker([s.lat, s.lon], { radius: s.level ? 11 : 7, color: "#222", weight: 1,
        fillColor: c, fillOpacity: 0.95 }).bindTooltip(`${s.name} ${s.level ? LEVEL[s.level] : "正常"}`,
        { permanent: true, direction: "right" }).addTo(st.layer);
      pts.push([s.lat, s.lon]);
    }
    for (const v of d.vehicles.filter((x) => x.lat != null)) {
      const c = v.level ? COLOUR[v.level] : "#7d8a99";
      L.circleMarker([v.lat, v.lon], { radius: v.level ? 9 : 6, color: "#fff", weight: 2,
        fillColor: c, fillOpacity: 0.95 }).bindTooltip(`${v.plate} ${v.level ? LEVEL[v.level] : "正常"}`,
        { direction: "right" }).addTo(st.layer);
      pts.push([v.lat, v.lon]);
    }
    if (pts.length) st.map.fitBounds(pts, { padding: [60, 60], maxZoom: 10 });
    else st.map.setView([40.8, 111.7], 6);
    $("#map-vehicles").innerHTML = d.vehicles.map((v) => `<li>${v.level ? `<span class="badge lv${v.level}">${LEVEL[v.level]}</span>` : "正常"} ${esc(v.plate)}</li>`).join("");
    setTimeout(() => st.map.invalidateSize(), 50);
  }

  async function loadClosing() {
    const rows = await api("GET", `/api/warnings?state=closing&drill=${st.drill}`);
    $("#no-closing").hidden = rows.length > 0;
    $("#closing tbody").innerHTML = rows.map((r) => `<tr data-wid="${esc(r.warning.warning_id)}">` +
      `<td><span class="badge lv${r.level}">${LEVEL[r.level]}</span>${r.warning.drill ? '<span class="drill-tag">演练</span>' : ""}</td>` +
      `<td>${subject(r)}</td><td>${esc(r.handled_by)}：${esc(r.cause)}；${esc(r.action)}</td>` +
      `<td>${fmtTime(r.cleared_at)}</td><td>${esc(r.warning.message)}</td></tr>`).join("");
  }

  const supTag = (r) => (r.supervisions || []).some((x) => x.answered_at == null)
    ? '<span class="drill-tag sup-tag">督办</span>' : "";

  async function loadUnhandled() {  // cleared by themselves before anyone's 处置: still due
    let rows;
    try { rows = await api("GET", `/api/warnings?state=unhandled&drill=${st.drill}`); }
    catch (e) { return; }
    rows.sort((a, b) => a.level - b.level || (b.cleared_at || 0) - (a.cleared_at || 0));
    $("#unhandled-count").textContent = rows.length ? `（${rows.length}）` : "";
    $("#no-unhandled").hidden = rows.length > 0;
    $("#unhandled tbody").innerHTML = rows.map((r) => `<tr data-wid="${esc(r.warning.warning_id)}">` +
      `<td><span class="badge lv${r.level}">${LEVEL[r.level]}</span>${r.warning.drill ? '<span class="drill-tag">演练</span>' : ""}${supTag(r)}</td>` +
      `<td>${subject(r)}</td><td>${stateText(r)}</td>` +
      `<td>${fmtTime(r.cleared_at)}</td><td>${esc(r.warning.message)}</td></tr>`).join("");
  }

  const timers = new Map();
  function soon(fn) {  // at most one reload per half second for a burst of changes
    if (!timers.has(fn)) timers.set(fn, setTimeout(() => { timers.delete(fn); fn(); }, 500));
  }

  async function loadSilences() {
    const rows = await api("GET", "/api/silences");
    const can = (st.me.perms || []).includes("silence");
    $("#no-silences").hidden = rows.length > 0;
    $("#silences tbody").innerHTML = rows.map((s) => `<tr data-sid="${esc(s.id)}">` +
      `<td>${esc(s.site ? "场所 " + s.site : s.vehicle ? "车辆 " + s.vehicle : "规则 " + s.rule_prefix)}</td>` +
      `<td>${esc(s.by)}</td><td>${esc(s.reason)}</td><td>${fmtTime(s.ends)}</td>` +
      `<td>${can ? '<button type="button" class="end-silence">提前结束</button>' : ""}</td></tr>`).join("");
  }

  $("#login-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await api("POST", "/api/login", { name: $("#login-name").value, password: $("#login-password").value });
      $("#login-password").value = ""; await boot();
    } catch (err) { $("#login-error").textContent = err.message; }
  });
  $("#logout").addEventListener("click", async () => { try { await api("POST", "/api/logout"); } finally { showLogin(); } });
  $("#drill").addEventListener("change", async () => { st.drill = $("#drill").value; st.alarm.clear(); await reload(); connect(); if (!$("#tab-map").hidden) loadMap(); });
  $("#filters").addEventListener("input", render);
  $("#warnings tbody").addEventListener("click", (e) => { const tr = e.target.closest("tr"); if (tr) openDetail(tr.dataset.wid); });
  $("#detail-close").addEventListener("click", () => { $("#detail").hidden = true; st.open = null; });
  $("#btn-ack").addEventListener("click", () => act(`/api/warnings/${encodeURIComponent(st.open)}/ack`, {}));
  $("#verify-form").addEventListener("submit", (e) => {
    e.preventDefault();
    act(`/api/warnings/${encodeURIComponent(st.open)}/verify`,
      { verdict: $("#verify-verdict").value, note: $("#verify-note").value });
  });
  $("#resolve-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const body = { cause: $("#resolve-cause").value, action: $("#resolve-action").value };
    if ($("#resolve-verdict").value) body.verdict = $("#resolve-verdict").value;
    act(`/api/warnings/${encodeURIComponent(st.open)}/resolve`, body);
  });
  $("#supervise-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const body = { admin: $("#supervise-admin").value };
    if ($("#supervise-minutes").value) body.deadline_s = Number($("#supervise-minutes").value) * 60;
    act(`/api/warnings/${encodeURIComponent(st.open)}/supervise`, body);
  });
  $("#btn-close").addEventListener("click", async () => {
    const a = await act(`/api/warnings/${encodeURIComponent(st.open)}/close`, {});
    if (a) {  // a closed warning is archived at once: show what the answer said
      $("#detail-state").innerHTML = stateText(a);
      $("#btn-close").hidden = true;
      $("#detail-error").textContent = "已销号";
      if (!$("#tab-closing").hidden) loadClosing();
    }
  });
  $("#closing tbody").addEventListener("click", (e) => { const tr = e.target.closest("tr"); if (tr) openDetail(tr.dataset.wid); });
  $("#unhandled tbody").addEventListener("click", (e) => { const tr = e.target.closest("tr"); if (tr) openDetail(tr.dataset.wid); });
  $("#silence-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const [k, v] = $("#silence-scope").value.split(/:(.*)/s);
    try {
      await api("POST", "/api/silences", { [k]: v, minutes: Number($("#silence-minutes").value), reason: $("#silence-reason").value });
      $("#detail-error").textContent = "静默已设置";
    } catch (err) { $("#detail-error").textContent = err.message; }
  });
  $("#silences tbody").addEventListener("click", async (e) => {
    const b = e.target.closest(".end-silence"); if (!b) return;
    try { await api("POST", `/api/silences/${encodeURIComponent(b.closest("tr").dataset.sid)}/end`, {}); } catch (err) { alert(err.message); }
    loadSilences();
  });
  for (const b of document.querySelectorAll("nav button")) {
    b.addEventListener("click", () => {
      for (const x of document.querySelectorAll("nav button")) x.classList.toggle("on", x === b);
      for (const t of ["list", "map", "silences", "closing", "unhandled"]) $(`#tab-${t}`).hidden = t !== b.dataset.tab;
      if (b.dataset.tab === "map") loadMap();
      if (b.dataset.tab === "closing") loadClosing();
      if (b.dataset.tab === "unhandled") loadUnhandled();
      if (b.dataset.tab === "silences") loadSilences();
    });
  }
  boot();
})();
