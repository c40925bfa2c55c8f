// Quire's search page: completions as you type (GET /complete) and keyboard navigation.
// The page works without this script; it only adds to it. Text from the server is only
// ever set with textContent, never parsed as markup.
'use strict';
(function () {
  const form = document.getElementById('search');
  const input = document.getElementById('q');
  const list = document.getElementById('complete');
  if (!form || !input || !list) return;

  // ---- completions ----------------------------------------------------------------------
  let items = []; // {text, kind}
  let active = -1;
  let timer = 0;
  let asked = 0; // sequence number of the last request: older answers are dropped

  function close() {
    list.hidden = true;
    list.replaceChildren();
    items = [];
    active = -1;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
  }

  function mark(i) {
    active = i;
    const lis = list.children;
    for (let k = 0; k < lis.length; k++)
      lis[k].setAttribute('aria-selected', k === i ? 'true' : 'false');
    if (i >= 0) input.setAttribute('aria-activedescendant', lis[i].id);
    else input.removeAttribute('aria-activedescendant');
  }

  function show(answer) {
    close();
    const seen = new Set();
    for (const c of answer.completions || []) {
      if (typeof c === 'string' && !seen.has(c)) { seen.add(c); items.push({ text: c, kind: 'word' }); }
    }
    for (const t of answer.titles || []) {
      if (t && typeof t.title === 'string' && !seen.has(t.title)) {
        seen.add(t.title);
        items.push({ text: t.title, kind: 'title' });
      }
    }
    if (!items.length) return;
    items.forEach(function (it, i) {
      const li = document.createElement('li');
      li.id = 'complete-' + i;
      li.setAttribute('role', 'option');
      li.className = it.kind;
      li.textContent = it.text;
      li.addEventListener('mousedown', function (e) { e.preventDefault(); pick(i); });
      list.appendChild(li);
    });
    list.hidden = false;
    input.setAttribute('aria-expanded', 'true');
  }

  function pick(i) {
    if (i < 0 || i >= items.length) return;
    input.value = items[i].text;
    close();
    form.requestSubmit ? form.requestSubmit() : form.submit();
  }

  function ask() {
    const q = input.value;
    if (!q.trim()) { close(); return; }
    const n = ++asked;
    fetch('/complete?q=' + encodeURIComponent(q) + '&limit=8', { headers: { Accept: 'application/json' } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (answer) {
        if (answer && n === asked && document.activeElement === input) show(answer);
      })
      .catch(function () { /* completions are a nicety: the search box still works */ });
  }

  input.addEventListener('input', function () {
    clearTimeout(timer);
    timer = setTimeout(ask, 60);
  });
  input.addEventListener('blur', function () { setTimeout(close, 100); });
  input.addEventListener('keydown', function (e) {
    if (list.hidden) {
      if (e.key === 'ArrowDown' && !input.value) { e.preventDefault(); moveHit(1); }
      return;
    }
    if (e.key === 'ArrowDown') { e.preventDefault(); mark(Math.min(active + 1, items.length - 1)); }
    else if (e.key === 'ArrowUp') { e.preventDefault(); mark(Math.max(active - 1, -1)); }
    else if (e.key === 'Escape') { e.preventDefault(); close(); }
    else if (e.key === 'Enter' && active >= 0) { e.preventDefault(); pick(active); }
  });

  // ---- keyboard navigation of results -----------------------------------------------------
  const hits = Array.prototype.slice.call(document.querySelectorAll('.hit'));
  let cur = -1;

  function moveHit(step) {
    if (!hits.length) return;
    if (cur >= 0) hits[cur].classList.remove('sel');
    cur = Math.max(0, Math.min(hits.length - 1, cur + step));
    const h = hits[cur];
    h.classList.add('sel');
    const a = h.querySelector('.hit-title a[href]');
    if (a) a.focus({ preventScroll: true });
    else { input.blur(); }
    h.scrollIntoView({ block: 'nearest' });
  }

  function follow(rel) {
    const a = document.querySelector('.pages a[rel="' + rel + '"]');
    if (a) window.location.assign(a.href);
  }

  document.addEventListener('keydown', function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const typing = document.activeElement === input;
    if (e.key === '/' && !typing) { e.preventDefault(); input.focus(); input.select(); return; }
    if (typing) return;
    if (e.key === 'ArrowDown' || e.key === 'j') { e.preventDefault(); moveHit(1); }
    else if (e.key === 'ArrowUp' || e.key === 'k') {
      e.preventDefault();
      if (cur <= 0) { if (cur === 0) hits[0].classList.remove('sel'); cur = -1; input.focus(); }
      else moveHit(-1);
    } else if (e.key === 'ArrowRight' || e.key === 'n') follow('next');
    else if (e.key === 'ArrowLeft' || e.key === 'p') follow('prev');
    else if (e.key === 'Escape') { input.focus(); }
  });
})();
