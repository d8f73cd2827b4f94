// What the catalog website's stack page does with the local app, call for call (issue 9):
//  1. fetch("https://127.1:PORT/health"): no credentials, no headers; 200 with body "OK" means the app is there,
//     anything else (an error, a CORS refusal) sends the person to download the bundle instead.
//  2. POST https://127.1:PORT/run, Content-Type application/json, body {slug: "<origin>/downloads/<slug>.stack"},
//     no Authorization header.
//  3. The answer's body is read as a stream of text chunks appended to a log panel; the panel closes when the
//     body ends. Right after the response headers arrive the iframe is pointed at https://<slug>.stack.localhost.
// window.stackPage records what happened, for the test that drives this page.
'use strict';
const params = new URLSearchParams(location.search);
const slug = params.get('slug') || 'hello';
const api = 'https://127.1:' + (params.get('port') || '57404');
const bundle = location.origin + '/downloads/' + slug + '.stack';
const $ = (id) => document.getElementById(id);
const page = (window.stackPage = { health: 'pending', run: 'idle', chunks: 0, error: null, status: null });

$('title').textContent = slug;
$('origin').textContent = location.origin;
$('bundle').textContent = bundle;
$('download-link').href = bundle;

// A network error is tried once more a second later, as a website would before saying no app is there (a daemon
// that is busy starting, or a first connection dropped); a refusal (CORS, HTTP status) is final either way.
async function fetchHealth() {
  try {
    return await fetch(api + '/health');
  } catch (e) {
    await new Promise((done) => setTimeout(done, 1000));
    return fetch(api + '/health');
  }
}

async function checkHealth() {
  try {
    const r = await fetchHealth();
    const body = await r.text();
    if (r.status === 200 && body === 'OK') {
      page.health = 'ok';
      $('health').textContent = 'the stack app answers on ' + api + ' (/health: ' + r.status + ' ' + body + ')';
      $('health').className = 'ok';
      return;
    }
    page.health = 'failed: HTTP ' + r.status;
  } catch (e) {
    page.health = 'failed: ' + e.name + ': ' + e.message;
  }
  $('health').textContent = 'no stack app on this machine (' + page.health + ')';
  $('health').className = 'failed';
  $('download').hidden = false;
}

async function start() {
  $('start').disabled = true;
  $('panel').hidden = false;
  $('panel').className = 'open';
  $('panel-title').textContent = 'log (streaming)';
  page.run = 'posting';
  try {
    const r = await fetch(api + '/run', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ slug: bundle }),
    });
    // The headers are here: show the stack where it will answer.
    page.httpStatus = r.status;
    $('app').src = 'https://' + slug + '.stack.localhost';
    $('iframe-src').textContent = $('app').src;
    page.run = 'streaming';
    const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      page.chunks++;
      $('log').textContent += value;
    }
    page.run = 'done';
    const lines = $('log').textContent.trimEnd().split('\n');
    page.status = lines[lines.length - 1];
    $('status').textContent = 'finished: ' + page.status;
  } catch (e) {
    page.run = 'error';
    page.error = e.name + ': ' + e.message;
    $('log').textContent += '(' + page.error + ')\n';
    $('status').textContent = 'the request failed: ' + page.error;
  }
  // The body ended (or never came): close the panel.
  $('panel').className = 'closed';
  $('panel-title').textContent = 'log (closed)';
}

$('start').addEventListener('click', start);
checkHealth();
