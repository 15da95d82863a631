/* Datafly.js for Signal: track, page, identify and group calls, batched and
   sent to this gateway with the pipeline key of the script tag.
   <script src="https://data.example.com/d.js" data-pipeline-key="dk_live_…"></script> */
(function (w, d) {
  "use strict";
  if (w.datafly && w.datafly.__signal) return;
  var script = d.currentScript || d.querySelector("script[data-pipeline-key]");
  if (!script) return;
  var key = script.getAttribute("data-pipeline-key");
  var host = script.getAttribute("data-host") || new URL(script.src, w.location.href).origin;
  var batchSize = parseInt(script.getAttribute("data-batch-size") || "10", 10);
  var flushMs = parseInt(script.getAttribute("data-flush-interval") || "1000", 10);
  var queue = [], timer = null, store = {};
  try { store = w.localStorage || {}; } catch (e) { store = {}; }

  function uuid() {
    if (w.crypto && w.crypto.randomUUID) return w.crypto.randomUUID();
    return "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g, function (c) {
      var r = Math.random() * 16 | 0;
      return (c === "x" ? r : (r & 3 | 8)).toString(16);
    });
  }
  function get(k) { try { return store["datafly_" + k] ? JSON.parse(store["datafly_" + k]) : null; } catch (e) { return null; } }
  function set(k, v) { try { store["datafly_" + k] = JSON.stringify(v); } catch (e) { /* private mode */ } }

  var anonymousId = get("anonymous_id") || uuid();
  set("anonymous_id", anonymousId);
  var userId = get("user_id");
  var traits = get("traits") || {};
  var consent = get("consent");

  function context() {
    var c = {
      page: { url: w.location.href, path: w.location.pathname, title: d.title, referrer: d.referrer },
      userAgent: w.navigator.userAgent,
      locale: w.navigator.language,
      library: { name: "datafly.js", version: "signal" }
    };
    try { c.timezone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { /* old browser */ }
    if (consent) c.consent = { canonical: consent };
    return c;
  }
  function enqueue(msg) {
    msg.messageId = uuid();
    msg.anonymousId = anonymousId;
    if (userId) msg.userId = userId;
    msg.timestamp = new Date().toISOString();
    msg.context = context();
    queue.push(msg);
    if (queue.length >= batchSize) flush();
    else if (!timer) timer = setTimeout(flush, flushMs);
  }
  function flush(beacon) {
    if (timer) { clearTimeout(timer); timer = null; }
    if (!queue.length) return;
    var body = JSON.stringify({ batch: queue.splice(0, queue.length), sentAt: new Date().toISOString(), writeKey: key });
    if (beacon && w.navigator.sendBeacon) {
      w.navigator.sendBeacon(host + "/v1/batch", new Blob([body], { type: "text/plain" }));
      return;
    }
    fetch(host + "/v1/batch", {
      method: "POST", body: body, credentials: "include", keepalive: true,
      headers: { "Content-Type": "application/json", "Authorization": "Bearer " + key }
    }).catch(function () { /* the next flush retries nothing: the browser is offline */ });
  }

  var datafly = {
    __signal: true,
    track: function (event, properties) { enqueue({ type: "track", event: event, properties: properties || {} }); },
    page: function (name, properties) {
      if (typeof name === "object") { properties = name; name = undefined; }
      var p = properties || {};
      p.url = p.url || w.location.href; p.title = p.title || d.title; p.referrer = p.referrer || d.referrer;
      p.path = p.path || w.location.pathname;
      enqueue({ type: "page", name: name, properties: p });
    },
    identify: function (id, t) {
      if (typeof id === "object") { t = id; id = null; }
      if (id) { userId = String(id); set("user_id", userId); }
      for (var k in (t || {})) traits[k] = t[k];
      set("traits", traits);
      enqueue({ type: "identify", traits: t || {} });
    },
    group: function (groupId, t) { enqueue({ type: "group", groupId: String(groupId), traits: t || {} }); },
    consent: function (canonical) { consent = canonical; set("consent", canonical); },
    reset: function () { userId = null; traits = {}; anonymousId = uuid(); set("user_id", null); set("traits", {}); set("anonymous_id", anonymousId); },
    flush: flush
  };
  var pending = (w.datafly && w.datafly.q) || [];
  w.datafly = datafly;
  for (var i = 0; i < pending.length; i++) datafly[pending[i][0]].apply(null, pending[i][1]);

  if (script.getAttribute("data-auto-page") !== "false") {
    datafly.page();
    var push = w.history.pushState;
    w.history.pushState = function () { push.apply(this, arguments); datafly.page(); };
    w.addEventListener("popstate", function () { datafly.page(); });
  }
  d.addEventListener("visibilitychange", function () { if (d.visibilityState === "hidden") flush(true); });
})(window, document);
