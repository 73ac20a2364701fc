// Copy buttons of the setup wizard. A file of its own: the Content-Security-Policy forbids inline script.
window.cheeseCave = window.cheeseCave || {};
window.cheeseCave.copyText = async function (text) {
    try {
        await navigator.clipboard.writeText(text);
        return true;
    } catch {
        // Non-secure origins (plain http on a LAN address) have no async clipboard: select and copy instead.
        const area = document.createElement("textarea");
        area.value = text;
        area.setAttribute("readonly", "");
        area.style.position = "fixed";
        area.style.opacity = "0";
        document.body.appendChild(area);
        area.select();
        const ok = document.execCommand("copy");
        document.body.removeChild(area);
        return ok;
    }
};
