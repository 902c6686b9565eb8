"""Printable sheets: patch PDFs at an exact size, ChArUco boards and colour charts.

Every sheet is laid out in page millimetres with the origin at the top-left corner of the
page, x to the right and y down the page. Only the drawing layer converts to PDF points.
"""
