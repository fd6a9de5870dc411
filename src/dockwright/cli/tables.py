"""Go's text/tabwriter as docker configures it (minwidth 10, tabwidth 1, padding 3, ' ').

Cells are tab-terminated; the text after a line's last tab is not part of any column. A column
block is a run of consecutive lines that all have a cell in that column; its width is the widest
cell plus padding (at least minwidth). Same algorithm as Go's, so tables line up identically.
"""

from __future__ import annotations


def text_width(s: str) -> int:
    """Cell width as Go's tabwriter measures it: the number of runes (code points)."""
    return len(s)


class TabWriter:
    def __init__(self, minwidth: int = 10, padding: int = 3) -> None:
        self.minwidth = minwidth
        self.padding = padding

    def format(self, text: str) -> str:
        """Align `text` (lines of tab-separated cells); a trailing newline is kept."""
        lines = [line.split("\t") for line in text.split("\n")]
        out: list[str] = []
        self._block(lines, 0, len(lines), [], out)
        return "\n".join(out)

    def _block(
        self, lines: list[list[str]], line0: int, line1: int, widths: list[int], out: list[str]
    ) -> None:
        column = len(widths)
        this = line0
        while this < line1:
            if column >= len(lines[this]) - 1:
                this += 1
                continue
            self._emit(lines, line0, this, widths, out)
            line0 = this
            width = self.minwidth
            while this < line1 and column < len(lines[this]) - 1:
                width = max(width, text_width(lines[this][column]) + self.padding)
                this += 1
            self._block(lines, line0, this, [*widths, width], out)
            line0 = this
        self._emit(lines, line0, line1, widths, out)

    @staticmethod
    def _emit(
        lines: list[list[str]], line0: int, line1: int, widths: list[int], out: list[str]
    ) -> None:
        for cells in lines[line0:line1]:
            parts = []
            for j, cell in enumerate(cells):
                if j < len(widths) and j < len(cells) - 1:
                    parts.append(cell + " " * (widths[j] - text_width(cell)))
                else:
                    parts.append(cell)
            out.append("".join(parts))


def tabwrite(text: str) -> str:
    return TabWriter().format(text)
