// imgate dashboard: small improvements only; every form works without this file.
"use strict";

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.getElementById(button.dataset.copy);
  if (!source || !navigator.clipboard) return;
  navigator.clipboard.writeText(source.textContent.trim()).then(() => {
    const label = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = label; }, 1500);
  });
});

document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
});

// The URL builder: rebuild the URL as the controls change (debounced), in the same parameter order as the
// server (data-order), and show the gateway's output with its size in pixels and bytes.
const builder = document.getElementById("builder");
if (builder) {
  const order = builder.dataset.order.split(",");
  const ns = builder.dataset.namespace;
  const origin = builder.dataset.origin;
  const preview = document.getElementById("preview");
  const box = document.getElementById("preview-box");
  const info = document.getElementById("preview-info");
  const field = (name) => builder.elements.namedItem(name);
  let timer = null;

  const built = () => {
    const data = new FormData(builder);
    const source = data.get("source") || "key";
    const target = String(data.get("target") || "").trim();
    const query = new URLSearchParams();
    let path = `/${ns}/`;
    if (source === "src" || source === "capture") {
      if (target) query.append(source, target);
    } else {
      path += target.replace(/^\/+/, "").split("/").map(encodeURIComponent).join("/");
    }
    const params = {};
    for (const name of order) {
      const value = String(data.get(name) || "").trim();
      if (value) { query.append(name, value); params[name] = value; }
    }
    const text = query.toString();
    return { target, path, params, url: text ? `${path}?${text}` : path };
  };

  const srcset = (url) => {
    const [base, text] = url.split("?");
    const query = new URLSearchParams(text || "");
    query.delete("w");
    const at = (width) => { const q = new URLSearchParams(query); q.append("w", width); return `${origin}${base}?${q}`; };
    const entries = [320, 640, 960, 1280, 1920].map((w) => `${at(w)} ${w}w`).join(", ");
    return `<img src="${at(640)}"\n     srcset="${entries}"\n     sizes="(max-width: 640px) 100vw, 640px" alt="">`;
  };

  const update = () => {
    const { target, path, params, url } = built();
    document.getElementById("built-url").textContent = target ? origin + url : "Pick a key to start.";
    if (!target) { box.hidden = true; return; }
    document.getElementById("srcset").textContent = srcset(url);
    document.getElementById("imgix").textContent =
      'import ImgixClient from "@imgix/js-core";\n' +
      `const client = new ImgixClient({ domain: ${JSON.stringify(location.host)}, useHTTPS: false });\n` +
      `client.buildURL(${JSON.stringify(path)}, ${JSON.stringify(params)});`;
    history.replaceState(null, "", `?${new URLSearchParams(new FormData(builder))}`);
    if (preview.getAttribute("src") !== url) {
      info.textContent = "Rendering…";
      box.hidden = false;
      preview.src = url;
    }
  };

  preview.addEventListener("load", () => {
    const url = preview.getAttribute("src");
    fetch(url).then((r) => r.blob()).then((blob) => {
      info.textContent = `${preview.naturalWidth} × ${preview.naturalHeight} px · ${blob.size.toLocaleString()} bytes · ${blob.type}. Click to set the focal point.`;
    });
  });
  preview.addEventListener("error", () => {
    fetch(preview.getAttribute("src")).then((r) => r.json()).then((body) => {
      info.textContent = `${body.error.code}: ${body.error.message}`;
    }).catch(() => { info.textContent = "The gateway did not answer with an image."; });
  });
  preview.addEventListener("click", (event) => {
    const x = (event.offsetX / preview.clientWidth).toFixed(2);
    const y = (event.offsetY / preview.clientHeight).toFixed(2);
    field("fp-x").value = x;
    field("fp-y").value = y;
    field("crop").value = "focalpoint";
    if (!field("fit").value) field("fit").value = "crop";
    if (!field("h").value && field("w").value) field("h").value = field("w").value;
    update();
  });
  builder.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(update, 350); });
  builder.addEventListener("change", () => { clearTimeout(timer); timer = setTimeout(update, 350); });
  builder.addEventListener("submit", (event) => { event.preventDefault(); update(); });
}
