/* Datafly.js for Signal (docs/datafly-js.md): track, page, identify, group and
   consent calls with the visitor's consent, batched to the gateway's /v1/batch
   and kept until the gateway has them.
   <script async src="https://data.example.com/d.js" data-pipeline-key="dk_live_…"></script> */
(function (main) {
  try { main(window, document); } catch (e) { /* a browser without what it needs: nothing into the page */ }
})(function (w, d) {
  "use strict";
  var script = d.currentScript || d.querySelector("script[data-pipeline-key]");
  if (!script) return;
  function attr(n) { return script.getAttribute("data-" + n); }
  var name = attr("global") || "datafly";
  var stub = w[name];
  if (stub && stub.__signal) return;

  var key = attr("pipeline-key");
  var endpoint = attr("endpoint") || new URL(script.src, w.location.href).origin;
  var BATCH = 10, WAIT = 1000, DAY = 864e5, KEEP = 200, BYTES = 60000;
  var store = null;
  try { store = w.localStorage; store.getItem("datafly_"); } catch (e) { store = null; }

  function uuid() {
    if (w.crypto.randomUUID) return w.crypto.randomUUID(); // secure contexts only
    var b = w.crypto.getRandomValues(new Uint8Array(16)), h = "";
    b[6] = b[6] & 15 | 64; b[8] = b[8] & 63 | 128;
    for (var i = 0; i < 16; i++) h += (i === 4 || i === 6 || i === 8 || i === 10 ? "-" : "") + (b[i] + 256).toString(16).slice(1);
    return h;
  }
  function get(k) { try { var v = store && store.getItem("datafly_" + k); return v ? JSON.parse(v) : null; } catch (e) { return null; } }
  function set(k, v) {
    try { if (store) v == null ? store.removeItem("datafly_" + k) : store.setItem("datafly_" + k, JSON.stringify(v)); } catch (e) { /* full or blocked */ }
  }
  function cookie(n) {
    try {
      var m = d.cookie.match(new RegExp("(?:^|; )" + n + "=([^;]*)"));
      return m ? decodeURIComponent(m[1]) : "";
    } catch (e) { return ""; }
  }
  function guard(f) {
    return function () { try { return f.apply(this, arguments); } catch (e) { /* never into the host page */ } };
  }
  function own(o, k) { return Object.prototype.hasOwnProperty.call(o, k); }
  function obj(v) { return v && typeof v === "object" && !Array.isArray(v) ? v : {}; }

  // Identity: the anonymous id and the userId persist; traits stay in memory.
  var anonymousId = get("anonymous_id") || uuid();
  set("anonymous_id", anonymousId);
  set("traits", null); // written by older versions of this script
  var userId = get("user_id");
  var traits = {};

  // Consent (docs/datafly-js.md, "Consent"): raw CMP codes and canonical
  // categories. A canonical category is granted when every code mapped to it
  // is granted; datafly.consent() values win over the CMPs.
  var CANON = ["essential", "functional", "analytics", "marketing", "personalization"];
  var ONETRUST = { C0001: "essential", C0002: "analytics", C0003: "functional", C0004: "marketing", C0005: "marketing" };
  var COOKIEBOT = { necessary: "essential", preferences: "functional", statistics: "analytics", marketing: "marketing" };
  var DIDOMI = ["cookies", "select_basic_ads", "create_ads_profile", "select_personalized_ads", "create_content_profile",
    "select_personalized_content", "measure_ad_performance", "measure_content_performance", "market_research", "improve_products"];
  var manual = obj(get("consent"));
  var tcf = null, tcfAsked = false; // TCF purpose number → consent, from __tcfapi
  var lastConsent = null;

  function consentState() {
    var cat = {}, can = {}, k;
    // put records a raw code and ANDs it into its canonical category.
    function put(code, ok, canon) {
      ok = !!ok;
      if (code) cat[code] = ok;
      if (canon) can[canon] = own(can, canon) ? can[canon] && ok : ok;
    }
    function tcfRule(p, prefix) {
      for (var n in p) put(prefix + n, p[n]);
      if (p[1] != null && p[3] != null && p[4] != null) put("", p[1] && p[3] && p[4], "marketing");
      if (p[8] != null || p[9] != null) put("", p[8] || p[9], "analytics");
      if (p[5] != null && p[6] != null) put("", p[5] && p[6], "personalization");
    }
    [function () {
      // OneTrust: the cookie's groups=C0001:1,C0004:0 (explicit answers),
      // else the active groups the banner exposes.
      var ot = /(?:^|&)groups=([^&]*)/.exec(cookie("OptanonConsent")), ag = w.OnetrustActiveGroups;
      if (ot) {
        ot[1].split(",").forEach(function (g) {
          g = g.split(":");
          if (g[0] && g.length === 2) put(g[0], g[1] === "1", ONETRUST[g[0]]);
        });
      } else if (typeof ag === "string") {
        ["C0001", "C0002", "C0003", "C0004"].concat(ag.split(",")).forEach(function (g) {
          if (g) put(g, ("," + ag + ",").indexOf("," + g + ",") >= 0, ONETRUST[g]);
        });
      }
    }, function () {
      // Cookiebot: its JS object, else its CookieConsent cookie.
      var cb = w.Cookiebot && w.Cookiebot.consent, m;
      if (cb && typeof cb.marketing === "boolean") {
        for (k in COOKIEBOT) put(k, cb[k], COOKIEBOT[k]);
        return;
      }
      var re = /(necessary|preferences|statistics|marketing):(true|false)/g, c = cookie("CookieConsent");
      while ((m = re.exec(c))) put(m[1], m[2] === "true", COOKIEBOT[m[1]]);
    }, function () {
      // Didomi: its purposes, read as the TCF purposes they are; a custom
      // purpose named after a canonical category maps to it.
      if (!w.Didomi || !w.Didomi.getUserStatus) return;
      var g = (w.Didomi.getUserStatus().purposes || {}).global || {}, p = {};
      [[g.enabled, true], [g.disabled, false]].forEach(function (l) {
        (l[0] || []).forEach(function (id) {
          var n = DIDOMI.indexOf(id);
          if (n >= 0) p[n + 1] = l[1];
          else put(id, l[1], CANON.indexOf(id) >= 0 ? id : "");
        });
      });
      tcfRule(p, "didomi_");
    }, function () {
      // IAB TCF v2: asked once through __tcfapi, then told of every change.
      if (!tcfAsked && typeof w.__tcfapi === "function") {
        tcfAsked = true;
        w.__tcfapi("addEventListener", 2, guard(function (data, ok) {
          if (!ok || !data || data.gdprApplies === false || data.eventStatus === "cmpuishown") return;
          var p = {}, c = (data.purpose && data.purpose.consents) || {};
          for (var n = 1; n <= 10; n++) p[n] = !!c[n];
          tcf = p;
          if (lastConsent !== null) setTimeout(onConsent, 0);
        }));
      }
      if (tcf) tcfRule(tcf, "tcf_");
    }].forEach(function (read) { try { read(); } catch (e) { /* a CMP not ready */ } });
    for (k in manual) {
      if (CANON.indexOf(k) < 0) put(k, manual[k], ONETRUST[k] || COOKIEBOT[k]);
    }
    for (k in manual) if (CANON.indexOf(k) >= 0) can[k] = manual[k];
    return { categories: cat, canonical: can };
  }
  // checkConsent records a change of consent as a track "Consent Updated".
  function checkConsent(force) {
    var s = consentState(), j = JSON.stringify(s), changed = force || (lastConsent !== null && j !== lastConsent);
    lastConsent = j;
    if (changed) enqueue({ type: "track", event: "Consent Updated", properties: { categories: s.categories, canonical: s.canonical } }, s);
    return s;
  }
  var onConsent = guard(function () { checkConsent(); });
  ["OneTrustGroupsUpdated", "CookiebotOnAccept", "CookiebotOnDecline"].forEach(function (e) { w.addEventListener(e, onConsent); });
  try {
    (w.didomiEventListeners = w.didomiEventListeners || []).push({ event: "consent.changed", listener: onConsent });
  } catch (e) { /* not Didomi's */ }

  // Transport: events wait in memory (and, without traits, in localStorage)
  // until the gateway answered for them.
  var queue = get("queue");
  queue = Array.isArray(queue) ? queue.filter(fresh) : [];
  var inflight = [], timer = null, retryAt = 0, failures = 0;

  function fresh(m) { return m && m.messageId && Date.now() - Date.parse(m.originalTimestamp) < DAY; }
  // save writes this page's queue, without traits, beside what other tabs
  // of the site left there (gone: the events just stored by the gateway).
  function save(gone) {
    var mine = {}, stored = get("queue"), out = [];
    queue.concat(gone || []).forEach(function (m) { mine[m.messageId] = 1; });
    (Array.isArray(stored) ? stored : []).forEach(function (m) { if (fresh(m) && !mine[m.messageId]) out.push(m); });
    out = out.concat(queue.map(function (m) {
      var c = {}, k;
      for (k in m) if (k !== "traits") c[k] = m[k];
      return c;
    })).slice(-KEEP);
    set("queue", out.length ? out : null);
  }
  function schedule(ms) {
    if (timer) return;
    timer = setTimeout(guard(function () { timer = null; flush(); }), ms);
  }
  function take() {
    queue = queue.filter(fresh);
    var batch = [], size = 0;
    for (var i = 0; i < queue.length && size < BYTES; i++) {
      if (inflight.indexOf(queue[i]) >= 0) continue;
      size += JSON.stringify(queue[i]).length;
      if (!batch.length || size < BYTES) batch.push(queue[i]);
    }
    return batch;
  }
  function drop(batch) {
    queue = queue.filter(function (m) { return batch.indexOf(m) < 0; });
    save(batch);
  }
  function body(batch) { return JSON.stringify({ batch: batch, sentAt: new Date().toISOString(), writeKey: key }); }
  function retry(after) {
    failures++;
    var ms = after > 0 ? after * 1000 : Math.min(30000, 1000 * Math.pow(2, failures - 1)) * (0.5 + Math.random() / 2);
    retryAt = Date.now() + ms;
    schedule(ms);
  }
  // flush sends one batch at a time; the next waits for its answer.
  function flush() {
    if (inflight.length || !key || !queue.length) return;
    if (Date.now() < retryAt) return schedule(retryAt - Date.now());
    if (timer) { clearTimeout(timer); timer = null; }
    var batch = inflight = take();
    function done(retryAfter) {
      inflight = [];
      if (retryAfter != null) return retry(retryAfter);
      failures = 0; retryAt = 0;
      drop(batch);
      if (queue.length) schedule(queue.length >= BATCH ? 0 : WAIT);
    }
    try {
      fetch(endpoint + "/v1/batch", {
        method: "POST", body: body(batch), credentials: "include", keepalive: true,
        headers: { "Content-Type": "application/json", "Authorization": "Bearer " + key }
      }).then(function (res) {
        // 2xx: stored, and those listed in "rejected" are invalid for good;
        // another 4xx (a bad key, a body over the limit) would fail again.
        done(res.status === 429 || res.status === 408 || res.status >= 500 ? parseFloat(res.headers.get("Retry-After")) || 0 : null);
      }, function () { done(0); }).catch(function () { inflight = []; });
    } catch (e) { done(0); }
  }
  // beacon hands what waits to the browser as the page goes away. After
  // failed sends the events stay queued too, for the next page to resend
  // (the gateway drops a repeated messageId).
  function beacon() {
    var batch = take();
    if (!key || !batch.length || !w.navigator.sendBeacon) return;
    if (w.navigator.sendBeacon(endpoint + "/v1/batch", new Blob([body(batch)], { type: "text/plain" })) && !failures) drop(batch);
  }
  var onHide = guard(function (e) { if (e.type === "pagehide" || d.visibilityState === "hidden") beacon(); });
  w.addEventListener("pagehide", onHide);
  d.addEventListener("visibilitychange", onHide);
  w.addEventListener("online", guard(function () { retryAt = 0; flush(); }));

  function context(s) {
    var c = {
      page: { url: w.location.href, path: w.location.pathname, search: w.location.search, title: d.title, referrer: referrer },
      userAgent: w.navigator.userAgent,
      locale: w.navigator.language,
      library: { name: "datafly.js", version: "2" },
      consent: s || checkConsent()
    };
    try { c.timezone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { /* old browser */ }
    return c;
  }
  function enqueue(m, s) {
    m.messageId = uuid();
    m.anonymousId = anonymousId;
    if (userId) m.userId = userId;
    m.originalTimestamp = new Date().toISOString();
    m.context = context(s);
    JSON.stringify(m); // a cyclic or BigInt property throws here, not in every later send
    queue.push(m);
    save(queue.length > 5 * KEEP ? [queue.shift()] : null);
    if (queue.length >= BATCH) flush(); else schedule(WAIT);
  }

  var referrer = d.referrer, lastPath = w.location.pathname, lastURL = w.location.href, paged = false;
  var api = {
    __signal: true,
    track: function (event, properties) { enqueue({ type: "track", event: String(event), properties: obj(properties) }); },
    page: function (n, properties) {
      if (typeof n === "object") { properties = n; n = undefined; }
      var p = {}, k, q = obj(properties);
      for (k in q) p[k] = q[k];
      p.url = p.url || w.location.href; p.path = p.path || w.location.pathname;
      p.title = p.title || d.title; p.referrer = p.referrer || referrer; p.search = p.search || w.location.search;
      paged = true;
      enqueue(n == null ? { type: "page", properties: p } : { type: "page", name: String(n), properties: p });
    },
    identify: function (id, t) {
      if (typeof id === "object" && id) { t = id; id = null; }
      if (id != null) { userId = String(id); set("user_id", userId); }
      t = obj(t);
      for (var k in t) traits[k] = t[k];
      enqueue({ type: "identify", traits: t });
    },
    group: function (groupId, t) { enqueue({ type: "group", groupId: String(groupId), traits: obj(t) }); },
    consent: function (c) {
      c = obj(c);
      var any = false;
      for (var k in c) {
        if (typeof c[k] === "boolean") { manual[k] = c[k]; any = true; }
      }
      if (!any) return;
      set("consent", manual);
      checkConsent(true);
    },
    user: function () { return { id: userId, anonymousId: anonymousId, traits: JSON.parse(JSON.stringify(traits)) }; },
    reset: function () {
      userId = null; traits = {}; anonymousId = uuid();
      set("user_id", null); set("anonymous_id", anonymousId);
    },
    load: function (k, opts) {
      key = key || String(k);
      endpoint = String(obj(opts).endpoint || endpoint).replace(/\/+$/, "");
      flush();
    },
    ready: function (cb) { if (typeof cb === "function") setTimeout(guard(cb), 0); },
    flush: function () { retryAt = 0; flush(); }
  };
  for (var m in api) if (typeof api[m] === "function") api[m] = guard(api[m]);
  // A call pushed after load (datafly.q.push([…])) runs at once.
  api.q = { push: guard(function (c) { if (c && api[c[0]] && c[0] !== "q") api[c[0]].apply(api, c[1] || []); }) };
  w[name] = api;

  endpoint = String(endpoint).replace(/\/+$/, "");
  var pending = (stub && stub.q) || [];
  try { for (var i = 0; i < pending.length; i++) api.q.push(pending[i]); } catch (e) { /* not an array */ }

  // Single-page apps: a page call when the path changes, one on load.
  if (attr("auto-page") !== "false") {
    if (!paged) api.page();
    var onNav = guard(function () {
      if (w.location.pathname === lastPath) { lastURL = w.location.href; return; }
      referrer = lastURL; lastPath = w.location.pathname; lastURL = w.location.href;
      api.page();
    });
    ["pushState", "replaceState"].forEach(function (f) {
      var orig = w.history[f];
      if (typeof orig !== "function") return;
      w.history[f] = function () { var r = orig.apply(this, arguments); onNav(); return r; };
    });
    w.addEventListener("popstate", onNav);
  }
  if (queue.length) schedule(0);
});
