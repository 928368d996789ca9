"""The report card (`make report`): one page per recipe, as Markdown + PNGs and as a self-contained HTML file."""
