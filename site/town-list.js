// The filter of the home page's list of towns (市町村一覧). The rows whose town (its name as
// shown, or its id in the page's address: towns/iiyama.html) or prefecture (its group's heading)
// holds what is typed stay; a prefecture without such a town is hidden, with its entry in the
// jump list; the number found is announced (role=status). Without JavaScript the filter stays
// hidden and the whole list shows.
document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("town-filter");
  if (!box) return;
  const status = document.getElementById("town-filter-status");
  const norm = s => s.normalize("NFKC").toLowerCase().replace(/\s+/g, "");
  const rows = [...document.querySelectorAll("table.town-list tbody tr")];
  const keys = rows.map(row => {
    const link = row.querySelector("th a");
    const id = link ? link.pathname.split("/").pop().replace(/\.html$/, "") : "";
    const heading = row.closest("section")?.querySelector("h3");
    return norm([row.querySelector("th").textContent, id, heading?.textContent].join(" "));
  });
  const groups = [...document.querySelectorAll("section.prefecture")];
  const jumps = new Map([...document.querySelectorAll(".prefecture-nav a")]
    .map(a => [a.hash.slice(1), a.closest("li")]));
  const total = rows.length.toLocaleString("ja-JP");
  const update = () => {
    const query = norm(box.value);
    let found = 0;
    rows.forEach((row, i) => {
      row.hidden = !keys[i].includes(query);
      if (!row.hidden) found += 1;
    });
    for (const group of groups) {
      group.hidden = !group.querySelector("tbody tr:not([hidden])");
      const jump = jumps.get(group.id);
      if (jump) jump.hidden = group.hidden;
    }
    status.textContent = !query ? `全${total}市町村`
      : found ? `${found.toLocaleString("ja-JP")}市町村が見つかりました（全${total}市町村）`
      : `「${box.value}」に当てはまる市町村はありません（全${total}市町村）`;
  };
  box.addEventListener("input", update);
  box.closest(".town-filter").hidden = false;
  update();
});
