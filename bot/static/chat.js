// The chat page: replies arrive as server-sent events and are drawn as messages with their
// buttons and downloads; what the user types, presses or uploads is posted back. Text is
// always set as text, never as HTML.
"use strict";
(() => {
  const strings = JSON.parse(document.getElementById("strings").textContent);
  let lang = document.documentElement.lang === "en" ? "en" : "zh";
  const log = document.getElementById("log");
  const form = document.getElementById("composer");
  const input = document.getElementById("text");
  const file = document.getElementById("file");
  const status = document.getElementById("status");
  let pending = 0; // posts not yet answered (tests and the send button wait on it)

  const say = (key, fields = {}) => strings[lang][key].replace(/\{(\w+)\}/g, (_, k) => fields[k] ?? "");
  const newId = () => Date.now().toString(36) + Math.random().toString(36).slice(2, 10);

  function relabel(code) {
    if (!strings[code] || code === lang) return;
    lang = code;
    document.documentElement.lang = lang === "en" ? "en" : "zh-CN";
    document.title = say("title");
    input.placeholder = say("placeholder");
    for (const el of document.querySelectorAll("[data-label]")) el.textContent = say(el.dataset.label);
  }

  function bubble(kind, text) {
    const box = document.createElement("div");
    box.className = `msg ${kind}`;
    box.append(document.createElement("div"));
    box.firstChild.textContent = text;
    log.append(box);
    box.scrollIntoView({block: "end"});
  }

  function buttons(cls, items, messageId) {
    const row = document.createElement("div");
    row.className = cls;
    for (const [label, data] of items) {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = label;
      b.dataset.data = data;
      // A message's buttons rest until its press is answered: a double click presses once.
      b.addEventListener("click", () => {
        const all = [...b.closest(".msg").querySelectorAll("button")];
        for (const each of all) each.disabled = true;
        post("/send", JSON.stringify({button: data, pressed: messageId, id: newId()}), label)
          .finally(() => { for (const each of all) each.disabled = false; });
      });
      row.append(b);
    }
    return row;
  }

  function downloads(documents) {
    const row = document.createElement("div");
    row.className = "documents";
    for (const doc of documents) {
      const bytes = Uint8Array.from(atob(doc.data), c => c.charCodeAt(0));
      const a = document.createElement("a");
      a.href = URL.createObjectURL(new Blob([bytes], {type: doc.type}));
      a.download = doc.name;
      a.textContent = say("download", {name: doc.name});
      row.append(a);
    }
    return row;
  }

  function render(ev) {
    const box = document.createElement("div");
    box.className = `msg bot ${ev.kind}`;
    box.id = "m-" + ev.id;
    box.dataset.kind = ev.kind;
    // Heading lines (a question's progress line) stand out: those the reply names, else the
    // first line of a question or a result.
    const headings = new Set(ev.headings && ev.headings.length ? ev.headings
                             : (ev.kind === "question" || ev.kind === "result") ? [0] : []);
    const text = document.createElement("div");
    ev.text.split("\n").forEach((line, i) => {
      if (i) text.append("\n");
      if (!headings.has(i)) { text.append(line); return; }
      const head = document.createElement("span");
      head.className = "heading";
      head.textContent = line;
      text.append(head);
    });
    box.append(text);
    if (ev.chosen) { // the answer picked on this question's button
      const chosen = document.createElement("div");
      chosen.className = "chosen";
      chosen.textContent = "✓ " + ev.chosen;
      box.append(chosen);
    }
    if (ev.choices.length) box.append(buttons("choices", ev.choices, ev.id));
    if (ev.actions.length) box.append(buttons("actions", ev.actions, ev.id));
    if (ev.documents.length) box.append(downloads(ev.documents));
    const old = ev.edit_of && document.getElementById("m-" + ev.edit_of);
    if (old) old.replaceWith(box); else log.append(box);
    // a reply taller than the window (a result on a phone) is shown from its start: its verdict
    box.scrollIntoView({block: box.offsetHeight > log.clientHeight ? "start" : "end"});
  }

  const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

  // A message carries its id: when the server it reached went away (several servers behind a
  // proxy, one restarting), it is posted again, and handled once whichever server gets it.
  async function fetchAgain(url, options, again) {
    for (let attempt = 0; ; attempt++) {
      try {
        const response = await fetch(url, options);
        if (!again || attempt >= 5 || ![502, 503, 504].includes(response.status)) return response;
      } catch (err) {
        if (!again || attempt >= 5) throw err;
      }
      await sleep(500 * 2 ** Math.min(attempt, 3));
    }
  }

  // One post at a time, in the order typed: the next waits for the answer to the previous,
  // so that two servers behind a proxy never take a user's messages out of order.
  let queue = Promise.resolve();

  function post(url, body, shown, headers = {"Content-Type": "application/json"}) {
    if (shown) bubble("me", shown);
    pending += 1;
    document.body.dataset.pending = pending;
    queue = queue.then(() => send(url, body, headers));
    return queue;
  }

  async function send(url, body, headers) {
    try {
      const response = await fetchAgain(url, {method: "POST", body, headers, credentials: "same-origin"},
                                        typeof body === "string");
      const data = await response.json().catch(() => ({}));
      if (data.lang) relabel(data.lang);
      // not our answer (a proxy's page, whose statusText is English or empty over HTTP/2): a 413
      // is a body too large for the proxy (nginx takes 1 MB unless told), not a message lost
      if (!response.ok) bubble("bot error", data.error || (response.status === 413
        ? say("refused_large", {limit: file.dataset.maxMb}) : say("not_sent")));
      return response.ok;
    } catch (err) { // no answer at all: say the message was lost, not only that the page reconnects
      bubble("bot error", say("not_sent"));
      return false;
    } finally {
      pending -= 1;
      document.body.dataset.pending = pending;
    }
  }

  form.addEventListener("submit", event => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    // not handled: the text is back in the box, to send again without typing it again
    post("/send", JSON.stringify({text, id: newId()}), text).then(sent => { if (!sent && !input.value) input.value = text; });
  });
  for (const b of document.querySelectorAll("[data-command]")) {
    // rests until answered, as a message's buttons do, and for a double click's span at least
    // (a post answered at once left the second click of a double click to switch back)
    b.addEventListener("click", () => {
      b.disabled = true;
      const rest = new Promise(done => setTimeout(done, 600));
      Promise.allSettled([post("/send", JSON.stringify({text: b.dataset.command, id: newId()})), rest])
        .then(() => { b.disabled = false; });
    });
  }
  file.addEventListener("change", () => {
    if (!file.files.length) return;
    if (file.files[0].size > Number(file.dataset.maxBytes)) { // refused here: not sent in vain
      bubble("bot error", say("too_large", {name: file.files[0].name, limit: file.dataset.maxMb}));
      file.value = "";
      return;
    }
    const data = new FormData();
    data.append("file", file.files[0]);
    post("/upload", data, say("uploaded", {name: file.files[0].name}), {});
    file.value = "";
  });

  let greeted = false;
  // Each reply's event id is its outbox row's: a reconnected stream sends again what may have
  // been lost with the old one (Last-Event-ID), and what this page has shown is not shown twice.
  const shown = new Set();
  let lastId = "";
  let retry = 1000; // before another stream, doubled up to 30 s: a page logged out asks seldom

  function connect() {
    // A new stream names the last reply itself: only a stream's own reconnection sends Last-Event-ID.
    const events = new EventSource(lastId ? "/events?last=" + encodeURIComponent(lastId) : "/events");
    events.addEventListener("open", () => {
      retry = 1000;
      status.hidden = true;
      input.disabled = false;
      document.getElementById("send").disabled = false;
      document.body.dataset.connected = "1";
      if (!greeted) { // a (re)loaded page: greet and ask again what was being asked
        greeted = true;
        post("/send", JSON.stringify({text: "/start", id: newId()}));
      }
    });
    events.addEventListener("error", () => {
      status.hidden = false;
      status.dataset.label = "offline";
      status.textContent = say("offline");
      document.body.dataset.connected = "";
      // An answer that is no stream (a proxy's 502 while the server restarts) ends an
      // EventSource for good: another one, or the page would never hear its replies again.
      if (events.readyState !== EventSource.CLOSED) return;
      setTimeout(connect, retry = Math.min(retry * 2, 30000));
      // refused for want of a session (cookie cleared, a new key or passphrase): said, not 正在重连…
      fetch("/session", {credentials: "same-origin"}).then(async response => {
        if (response.status !== 401 || document.body.dataset.connected) return;
        const data = await response.json().catch(() => ({}));
        if (!data.error) return;
        delete status.dataset.label; // the server's words, in the language it chose
        status.textContent = data.error;
      }).catch(() => {});
    });
    events.addEventListener("message", event => {
      if (event.lastEventId) {
        if (shown.has(event.lastEventId)) return;
        shown.add(event.lastEventId);
        lastId = event.lastEventId;
      }
      render(JSON.parse(event.data));
    });
  }
  connect();
})();
