// Browser state a capture might leave behind, written by set-state.html and looked for by read-state.html.
"use strict";

async function readState() {
  const found = [];
  if (document.cookie.includes("imgate_js=1")) found.push("cookie");
  if (document.cookie.includes("imgate_http=1")) found.push("http-cookie");
  if (localStorage.getItem("imgate")) found.push("localStorage");
  const databases = await indexedDB.databases();
  if (databases.some((database) => database.name === "imgate")) found.push("indexedDB");
  if ((await navigator.serviceWorker.getRegistrations()).length) found.push("serviceWorker");
  if ((await caches.keys()).includes("imgate")) found.push("cacheStorage");
  return found;
}

async function writeState() {
  document.cookie = "imgate_js=1; max-age=3600; path=/";
  localStorage.setItem("imgate", "1");
  await new Promise((resolve, reject) => {
    const request = indexedDB.open("imgate", 1);
    request.onupgradeneeded = () => request.result.createObjectStore("things");
    request.onsuccess = () => { request.result.close(); resolve(); };
    request.onerror = () => reject(request.error);
  });
  await navigator.serviceWorker.register("/sw.js");
  await (await caches.open("imgate")).put("/thing", new Response("thing"));
  // Served with a long max-age: a second fetch in this context comes from the HTTP cache.
  await fetch("/cached.png");
}

const KINDS = ["cookie", "http-cookie", "localStorage", "indexedDB", "serviceWorker", "cacheStorage"];

function show(found) {
  // One 50 px cell per kind of state, left to right in KINDS order: red if found, green if not.
  for (const kind of KINDS) {
    const cell = document.createElement("div");
    cell.style.cssText = "display:inline-block;width:50px;height:50px";
    cell.style.background = found.includes(kind) ? "#f00" : "#0f0";
    document.getElementById("cells").appendChild(cell);
  }
  document.getElementById("found").textContent = found.join(",");
  const done = document.createElement("div");
  done.id = "done";
  document.body.appendChild(done);
}
