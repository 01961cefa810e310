import { escapeHtml, sha256Hex } from './util.js';

/**
 * Minimal stand-in for Connect's `all.js`, loaded by the app's iframe page. It speaks a tiny
 * postMessage protocol with host.js below: resize, sizeToParent, navigation, context.
 */
export const ALL_JS = `(function () {
  'use strict';
  var pending = {};
  var seq = 0;
  function send(type, data) { window.parent.postMessage({ __simAp: true, type: type, data: data || {} }, '*'); }
  function ask(type, data, cb) { var id = 'r' + (++seq); pending[id] = cb; send(type, Object.assign({ id: id }, data || {})); }
  window.addEventListener('message', function (e) {
    var m = e.data;
    if (!m || !m.__simAp || !m.reply || !pending[m.reply]) return;
    var cb = pending[m.reply]; delete pending[m.reply]; cb(m.data);
  });
  function contentHeight() { return Math.max(document.body ? document.body.scrollHeight : 0, document.documentElement.scrollHeight); }
  var AP = {
    resize: function (width, height) { send('resize', { width: width || '100%', height: height || contentHeight() + 'px' }); },
    sizeToParent: function () { send('sizeToParent'); },
    getLocation: function (cb) { ask('getLocation', {}, cb); },
    navigator: {
      go: function (target, context) { send('navigate', { target: target, context: context || {} }); },
      reload: function () { send('reload'); }
    },
    context: {
      getContext: function (cb) { ask('getContext', {}, cb); }
    },
    events: { on: function () {}, off: function () {}, emit: function () {} }
  };
  window.AP = AP;
  // Like all.js with data-options="resize:true" (the default): follow content height.
  // Only report real changes, so content sized by the viewport cannot start a resize loop.
  var lastHeight = -1;
  function autoResize() { var h = contentHeight(); if (h !== lastHeight) { lastHeight = h; AP.resize('100%', h + 'px'); } }
  if (typeof ResizeObserver !== 'undefined') {
    window.addEventListener('load', function () { new ResizeObserver(autoResize).observe(document.body); });
  }
  window.addEventListener('load', autoResize);
})();
`;

/** Host side of the bridge: the Bitbucket-like page that frames the app. */
export const HOST_JS = `(function () {
  'use strict';
  window.addEventListener('message', function (e) {
    var m = e.data;
    if (!m || !m.__simAp) return;
    var frames = document.querySelectorAll('iframe[data-ap-frame]');
    var frame = null;
    for (var i = 0; i < frames.length; i++) if (frames[i].contentWindow === e.source) frame = frames[i];
    if (!frame) return;
    var ctx = JSON.parse(frame.getAttribute('data-context') || '{}');
    function reply(data) { e.source.postMessage({ __simAp: true, reply: m.data.id, data: data }, '*'); }
    switch (m.type) {
      case 'resize':
        frame.style.height = /^\\d+$/.test(String(m.data.height)) ? m.data.height + 'px' : m.data.height;
        if (m.data.width) frame.style.width = /^\\d+$/.test(String(m.data.width)) ? m.data.width + 'px' : m.data.width;
        break;
      case 'sizeToParent':
        frame.style.height = (window.innerHeight - frame.getBoundingClientRect().top - 16) + 'px';
        break;
      case 'getLocation': reply(window.location.href); break;
      case 'getContext': reply(ctx); break;
      case 'navigate':
        if (m.data.context && m.data.context.url) window.location.href = m.data.context.url;
        break;
      case 'reload': frame.src = frame.src; break;
    }
  });
})();
`;

export const PAGE_CSS = `
body{margin:0;font:14px/1.45 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#172b4d;background:#fff}
header{display:flex;align-items:center;gap:16px;height:56px;padding:0 20px;background:#0052cc;color:#fff}
header a{color:#fff;text-decoration:none;font-weight:600}
header .sim{font-size:11px;background:#ffab00;color:#172b4d;border-radius:3px;padding:1px 6px;font-weight:700}
header form{margin-left:auto}
.layout{display:flex;min-height:calc(100vh - 56px)}
nav{width:240px;flex:none;background:#f4f5f7;padding:16px 8px;border-right:1px solid #dfe1e6}
nav h2{font-size:11px;text-transform:uppercase;color:#6b778c;margin:16px 8px 4px}
nav a{display:block;padding:6px 8px;border-radius:3px;color:#42526e;text-decoration:none}
nav a:hover{background:#ebecf0}
nav a.active{background:#deebff;color:#0052cc;font-weight:600}
main{flex:1;padding:24px 32px;min-width:0}
main h1{font-size:24px;font-weight:500;margin:0 0 16px}
iframe[data-ap-frame]{width:100%;border:0;min-height:150px;display:block}
table{border-collapse:collapse}td,th{padding:4px 12px 4px 0;text-align:left}
.muted{color:#6b778c}
`;

/** Initials on a colored circle, so avatar links in payloads resolve to something. */
export function avatarSvg(id: string, label: string): string {
  const hue = parseInt(sha256Hex(id).slice(0, 4), 16) % 360;
  const initials = escapeHtml(
    label
      .split(/[\s._-]+/)
      .filter(Boolean)
      .slice(0, 2)
      .map((w) => w[0]!.toUpperCase())
      .join('') || '?',
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="128" height="128" viewBox="0 0 128 128"><circle cx="64" cy="64" r="64" fill="hsl(${hue},55%,45%)"/><text x="64" y="80" font-family="Arial,sans-serif" font-size="48" text-anchor="middle" fill="#fff">${initials}</text></svg>`;
}
