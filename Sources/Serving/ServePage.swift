/// The page `ModelServer` serves at `/`: choose or drop an image, see it, the predicted label and
/// a bar chart of the most likely classes. HTML, CSS and a little JavaScript, nothing fetched from
/// anywhere else.
enum ServePage {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>FastSwift classifier</title>
        <style>
          body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 40rem; color: #222; padding: 0 1rem; }
          h1 { font-size: 1.5rem; margin-bottom: .25rem; }
          #model { color: #666; font-size: .9rem; margin-bottom: 1rem; }
          #drop { border: 2px dashed #999; border-radius: 8px; padding: 1.5rem; text-align: center; cursor: pointer; }
          #drop.over { border-color: #2a7ae2; background: #eef4fd; }
          #preview { max-width: 100%; max-height: 16rem; margin-top: 1rem; image-rendering: auto; display: none; }
          #label { font-size: 1.75rem; font-weight: 600; margin: 1rem 0 .5rem; min-height: 2rem; }
          #error { color: #b00020; margin-top: .5rem; }
          .bar { display: flex; align-items: center; margin: .25rem 0; font-size: .95rem; }
          .bar .name { width: 9rem; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
          .bar .track { flex: 1; background: #eee; border-radius: 4px; height: 1.1rem; margin: 0 .5rem; }
          .bar .fill { background: #2a7ae2; height: 100%; border-radius: 4px; }
          .bar .value { width: 4.5rem; text-align: right; font-variant-numeric: tabular-nums; }
        </style>
        </head>
        <body>
        <h1>What does the model see?</h1>
        <div id="model">loading the model's description…</div>
        <div id="drop">Drop an image here, or <label><u>choose one</u><input id="file" type="file" accept="image/png,image/jpeg" hidden></label></div>
        <img id="preview" alt="the chosen image">
        <div id="label"></div>
        <div id="chart"></div>
        <div id="error"></div>
        <script>
        const $ = id => document.getElementById(id);
        fetch('/model').then(r => r.json()).then(m => {
          const input = m.input || {};
          $('model').textContent = (m.arch || 'model') + ' · ' + (m.vocab || []).length + ' classes · input ' +
            input.channels + '×' + input.height + '×' + input.width;
        }).catch(() => { $('model').textContent = ''; });
        let latest = 0;  // only the answer for the most recently chosen image is shown
        async function classify(file) {
          const request = ++latest;
          $('error').textContent = ''; $('label').textContent = '…'; $('chart').innerHTML = '';
          const preview = $('preview');
          preview.src = URL.createObjectURL(file); preview.style.display = 'block';
          try {
            const response = await fetch('/predict', { method: 'POST', headers: { 'Content-Type': file.type || 'application/octet-stream' }, body: file });
            const result = await response.json();
            if (request !== latest) { return; }
            if (!response.ok) { throw new Error(result.error || response.statusText); }
            $('label').textContent = result.label; $('chart').innerHTML = '';
            for (const p of result.probabilities.slice(0, 5)) {
              const row = document.createElement('div'); row.className = 'bar';
              const name = document.createElement('span'); name.className = 'name'; name.textContent = p.label;
              const track = document.createElement('span'); track.className = 'track';
              const fill = document.createElement('span'); fill.className = 'fill'; fill.style.display = 'block';
              fill.style.width = (100 * p.probability).toFixed(1) + '%'; track.appendChild(fill);
              const value = document.createElement('span'); value.className = 'value'; value.textContent = (100 * p.probability).toFixed(1) + '%';
              row.append(name, track, value); $('chart').appendChild(row);
            }
          } catch (e) { if (request === latest) { $('label').textContent = ''; $('error').textContent = e.message; } }
        }
        $('file').addEventListener('change', e => { if (e.target.files[0]) classify(e.target.files[0]); });
        const drop = $('drop');
        drop.addEventListener('dragover', e => { e.preventDefault(); drop.classList.add('over'); });
        drop.addEventListener('dragleave', () => drop.classList.remove('over'));
        drop.addEventListener('drop', e => { e.preventDefault(); drop.classList.remove('over'); if (e.dataTransfer.files[0]) classify(e.dataTransfer.files[0]); });
        </script>
        </body>
        </html>
        """#
}
