/* TEMPORARY: removed when the first TUI module lands. */ typedef int rs_tui_placeholder;
