/* xlsx_writer: a streaming XLSX workbook (see xlsx_writer.h). The parts and their relationships follow
 * ECMA-376 Part 1 (SpreadsheetML) and Part 2 (Open Packaging Conventions): the worksheets are written
 * as the rows come; the workbook part, which lists them, and the content types go into the zip after
 * the last one (a package's part order in the zip carries no meaning). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"
#include "xlsx_text.h"
#include "xlsx_writer.h"

#define XML_FLUSH_AT 65536          /* worksheet XML bytes gathered before they go to the compressor */
#define DEFLATE_LEVEL 1             /* zlib's fastest: worksheet XML is repetitive and compresses well anyway */

#define XML_DECL "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
#define NS_MAIN "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
#define NS_REL "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
#define NS_PKG_REL "http://schemas.openxmlformats.org/package/2006/relationships"
#define CT_OFFICE "application/vnd.openxmlformats-officedocument."

struct xlsx_writer {
	zip_writer *zip;
	const char *sheet_name;
	const char *const *headers;  /* borrowed */
	size_t ncols;
	char (*colref)[4];           /* owned: the letters of each column ("A", "AB", "XFD") */
	uint32_t sheet_rows;         /* rows per worksheet, header included */
	uint32_t row;                /* rows of the current worksheet so far */
	int sheets;
	char rownum[12];             /* the current row's number in decimal */
	size_t rownum_len;
	char *xml;                   /* owned: worksheet XML not yet compressed */
	size_t len, cap;
	int64_t created;
	const char *error;
};

/* ---- XML buffer --------------------------------------------------------------------------------- */

/* Makes room for n more bytes. */
static void reserve(xlsx_writer *x, size_t n)
{
	if (x->len + n <= x->cap)
		return;
	size_t want = x->cap ? x->cap : XML_FLUSH_AT * 2;
	while (want < x->len + n)
		want *= 2;
	x->xml = xrealloc(x->xml, want);
	x->cap = want;
}

static void put(xlsx_writer *x, const char *s, size_t n)
{
	reserve(x, n);
	memcpy(x->xml + x->len, s, n);
	x->len += n;
}

static void puts_(xlsx_writer *x, const char *s)
{
	put(x, s, strlen(s));
}

/* Sets the error once. Returns -1. */
static int fail(xlsx_writer *x, const char *why)
{
	if (x->error == NULL)
		x->error = why;
	return -1;
}

/* Hands the gathered XML to the current zip entry. Returns 0 or -1. */
static int flush_xml(xlsx_writer *x)
{
	if (x->len > 0 && zip_entry_write(x->zip, x->xml, x->len) != 0)
		return fail(x, zip_writer_error(x->zip));
	x->len = 0;
	return 0;
}

/* Writes a whole part (the XML gathered in x->xml) as the zip entry name. Returns 0 or -1. */
static int write_part(xlsx_writer *x, const char *name)
{
	if (zip_entry_begin(x->zip, name) != 0)
		return fail(x, zip_writer_error(x->zip));
	if (flush_xml(x) != 0)
		return -1;
	if (zip_entry_end(x->zip) != 0)
		return fail(x, zip_writer_error(x->zip));
	return 0;
}

/* ---- cells -------------------------------------------------------------------------------------- */

/* Appends `<c r="B7"` for column col of the current row. */
static void cell_open(xlsx_writer *x, size_t col)
{
	reserve(x, 8 + 4 + sizeof x->rownum);
	char *p = x->xml + x->len;
	memcpy(p, "<c r=\"", 6);
	p += 6;
	size_t n = strlen(x->colref[col]);
	memcpy(p, x->colref[col], n);
	p += n;
	memcpy(p, x->rownum, x->rownum_len);
	p += x->rownum_len;
	*p++ = '"';
	x->len = (size_t)(p - x->xml);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* A string cell with style s (0: none). */
static void string_cell(xlsx_writer *x, size_t col, const char *s, size_t n, int style)
{
	n = xlsx_text_cut(s, n, XLSX_STRING_MAX);
	if (n == 0)
		return;
	cell_open(x, col);
	if (style)
		puts_(x, " s=\"1\"");
	/* leading or trailing white space is kept only when the text says so */
	if (is_blank(s[0]) || is_blank(s[n - 1]))
		puts_(x, " t=\"inlineStr\"><is><t xml:space=\"preserve\">");
	else
		puts_(x, " t=\"inlineStr\"><is><t>");
	reserve(x, 5 * n + 16);
	x->len += xlsx_text_xml(s, n, x->xml + x->len);
	put(x, "</t></is></c>", 13);
}

void xlsx_cell_string(xlsx_writer *x, size_t col, const char *s, size_t n)
{
	string_cell(x, col, s, n, 0);
}

void xlsx_cell_number(xlsx_writer *x, size_t col, const char *text, size_t n)
{
	cell_open(x, col);
	put(x, "><v>", 4);
	put(x, text, n);
	put(x, "</v></c>", 8);
}

void xlsx_cell_bool(xlsx_writer *x, size_t col, bool v)
{
	cell_open(x, col);
	puts_(x, v ? " t=\"b\"><v>1</v></c>" : " t=\"b\"><v>0</v></c>");
}

/* ---- worksheets --------------------------------------------------------------------------------- */

/* Opens row x->row + 1 of the current worksheet. */
static void row_open(xlsx_writer *x)
{
	x->row++;
	x->rownum_len = (size_t)snprintf(x->rownum, sizeof x->rownum, "%u", x->row);
	puts_(x, "<row r=\"");
	put(x, x->rownum, x->rownum_len);
	put(x, "\">", 2);
}

/* Starts worksheet number x->sheets + 1 with its header row. Returns 0 or -1. */
static int sheet_start(xlsx_writer *x)
{
	char name[48];
	x->sheets++;
	snprintf(name, sizeof name, "xl/worksheets/sheet%d.xml", x->sheets);
	if (zip_entry_begin(x->zip, name) != 0)
		return fail(x, zip_writer_error(x->zip));
	puts_(x, XML_DECL "<worksheet xmlns=\"" NS_MAIN "\" xmlns:r=\"" NS_REL "\">");
	puts_(x, x->sheets == 1 ? "<sheetViews><sheetView tabSelected=\"1\" workbookViewId=\"0\"/></sheetViews>"
	                        : "<sheetViews><sheetView workbookViewId=\"0\"/></sheetViews>");
	puts_(x, "<sheetFormatPr defaultRowHeight=\"15\"/><sheetData>");
	x->row = 0;
	row_open(x);
	for (size_t col = 0; col < x->ncols; col++)
		string_cell(x, col, x->headers[col], strlen(x->headers[col]), 1);
	put(x, "</row>", 6);
	return 0;
}

/* Ends the current worksheet. Returns 0 or -1. */
static int sheet_end(xlsx_writer *x)
{
	puts_(x, "</sheetData><pageMargins left=\"0.7\" right=\"0.7\" top=\"0.75\" bottom=\"0.75\" header=\"0.3\" "
	         "footer=\"0.3\"/></worksheet>");
	if (flush_xml(x) != 0)
		return -1;
	if (zip_entry_end(x->zip) != 0)
		return fail(x, zip_writer_error(x->zip));
	return 0;
}

int xlsx_row_start(xlsx_writer *x)
{
	if (x->error)
		return -1;
	if (x->row >= x->sheet_rows && (sheet_end(x) != 0 || sheet_start(x) != 0))
		return -1;
	row_open(x);
	return 0;
}

int xlsx_row_end(xlsx_writer *x)
{
	put(x, "</row>", 6);
	return x->len >= XML_FLUSH_AT ? flush_xml(x) : 0;
}

/* ---- the other parts ---------------------------------------------------------------------------- */

/* Sets x->xml to the parts that do not depend on the worksheets and writes them. Returns 0 or -1. */
static int write_fixed_parts(xlsx_writer *x)
{
	puts_(x, XML_DECL "<Relationships xmlns=\"" NS_PKG_REL "\">"
	         "<Relationship Id=\"rId1\" Type=\"" NS_REL "/officeDocument\" Target=\"xl/workbook.xml\"/>"
	         "<Relationship Id=\"rId2\" Type=\"" NS_PKG_REL "/metadata/core-properties\" Target=\"docProps/core.xml\"/>"
	         "<Relationship Id=\"rId3\" Type=\"" NS_REL "/extended-properties\" Target=\"docProps/app.xml\"/>"
	         "</Relationships>");
	if (write_part(x, "_rels/.rels") != 0)
		return -1;
	char when[32];
	time_t t = (time_t)x->created;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	puts_(x, XML_DECL "<cp:coreProperties xmlns:cp=\"http://schemas.openxmlformats.org/package/2006/metadata/"
	         "core-properties\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:dcterms=\"http://purl.org/dc/"
	         "terms/\" xmlns:dcmitype=\"http://purl.org/dc/dcmitype/\" xmlns:xsi=\"http://www.w3.org/2001/"
	         "XMLSchema-instance\"><dc:creator>earshot</dc:creator><dcterms:created xsi:type=\"dcterms:W3CDTF\">");
	puts_(x, when);
	puts_(x, "</dcterms:created><dcterms:modified xsi:type=\"dcterms:W3CDTF\">");
	puts_(x, when);
	puts_(x, "</dcterms:modified></cp:coreProperties>");
	if (write_part(x, "docProps/core.xml") != 0)
		return -1;
	/* style 0: the default; style 1: bold (the header row) */
	puts_(x, XML_DECL "<styleSheet xmlns=\"" NS_MAIN "\">"
	         "<fonts count=\"2\"><font><sz val=\"11\"/><name val=\"Calibri\"/><family val=\"2\"/></font>"
	         "<font><b/><sz val=\"11\"/><name val=\"Calibri\"/><family val=\"2\"/></font></fonts>"
	         "<fills count=\"2\"><fill><patternFill patternType=\"none\"/></fill>"
	         "<fill><patternFill patternType=\"gray125\"/></fill></fills>"
	         "<borders count=\"1\"><border><left/><right/><top/><bottom/><diagonal/></border></borders>"
	         "<cellStyleXfs count=\"1\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\"/></cellStyleXfs>"
	         "<cellXfs count=\"2\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\"/>"
	         "<xf numFmtId=\"0\" fontId=\"1\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyFont=\"1\"/></cellXfs>"
	         "<cellStyles count=\"1\"><cellStyle name=\"Normal\" xfId=\"0\" builtinId=\"0\"/></cellStyles>"
	         "<dxfs count=\"0\"/><tableStyles count=\"0\"/></styleSheet>");
	return write_part(x, "xl/styles.xml");
}

/* Writes the parts that list the worksheets. Returns 0 or -1. */
static int write_listing_parts(xlsx_writer *x)
{
	char tmp[160];
	puts_(x, XML_DECL "<workbook xmlns=\"" NS_MAIN "\" xmlns:r=\"" NS_REL "\"><bookViews><workbookView/></bookViews>"
	         "<sheets>");
	for (int i = 1; i <= x->sheets; i++) {
		puts_(x, "<sheet name=\"");
		/* the name is ours: plain text with nothing to escape */
		if (i == 1)
			puts_(x, x->sheet_name);
		else {
			snprintf(tmp, sizeof tmp, "%s %d", x->sheet_name, i);
			puts_(x, tmp);
		}
		snprintf(tmp, sizeof tmp, "\" sheetId=\"%d\" r:id=\"rId%d\"/>", i, i);
		puts_(x, tmp);
	}
	puts_(x, "</sheets></workbook>");
	if (write_part(x, "xl/workbook.xml") != 0)
		return -1;

	puts_(x, XML_DECL "<Relationships xmlns=\"" NS_PKG_REL "\">");
	for (int i = 1; i <= x->sheets; i++) {
		snprintf(tmp, sizeof tmp, "<Relationship Id=\"rId%d\" Type=\"" NS_REL "/worksheet\" "
		         "Target=\"worksheets/sheet%d.xml\"/>", i, i);
		puts_(x, tmp);
	}
	snprintf(tmp, sizeof tmp, "<Relationship Id=\"rId%d\" Type=\"" NS_REL "/styles\" Target=\"styles.xml\"/>",
	         x->sheets + 1);
	puts_(x, tmp);
	puts_(x, "</Relationships>");
	if (write_part(x, "xl/_rels/workbook.xml.rels") != 0)
		return -1;

	puts_(x, XML_DECL "<Properties xmlns=\"http://schemas.openxmlformats.org/officeDocument/2006/"
	         "extended-properties\"><Application>earshot</Application></Properties>");
	if (write_part(x, "docProps/app.xml") != 0)
		return -1;

	puts_(x, XML_DECL "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
	         "<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>"
	         "<Default Extension=\"xml\" ContentType=\"application/xml\"/>"
	         "<Override PartName=\"/xl/workbook.xml\" ContentType=\"" CT_OFFICE "spreadsheetml.sheet.main+xml\"/>"
	         "<Override PartName=\"/xl/styles.xml\" ContentType=\"" CT_OFFICE "spreadsheetml.styles+xml\"/>"
	         "<Override PartName=\"/docProps/core.xml\" "
	         "ContentType=\"application/vnd.openxmlformats-package.core-properties+xml\"/>"
	         "<Override PartName=\"/docProps/app.xml\" ContentType=\"" CT_OFFICE "extended-properties+xml\"/>");
	for (int i = 1; i <= x->sheets; i++) {
		snprintf(tmp, sizeof tmp, "<Override PartName=\"/xl/worksheets/sheet%d.xml\" ContentType=\"", i);
		puts_(x, tmp);
		puts_(x, CT_OFFICE "spreadsheetml.worksheet+xml\"/>");
	}
	puts_(x, "</Types>");
	return write_part(x, "[Content_Types].xml");
}

/* ---- writer ------------------------------------------------------------------------------------- */

xlsx_writer *xlsx_writer_new(const char *sheet_name, const char *const *headers, size_t ncols, size_t piece_size,
                             zip_sink sink, void *sink_ctx, const char **err)
{
	if (ncols == 0 || ncols > XLSX_COLS_MAX) {
		*err = "a worksheet holds 1 to 16384 columns";
		return NULL;
	}
	xlsx_writer *x = xcalloc(1, sizeof *x);
	x->created = (int64_t)time(NULL);
	x->zip = zip_writer_new(DEFLATE_LEVEL, piece_size, x->created, sink, sink_ctx);
	if (x->zip == NULL) {
		free(x);
		*err = "cannot start the compressor";
		return NULL;
	}
	x->sheet_name = sheet_name;
	x->headers = headers;
	x->ncols = ncols;
	x->sheet_rows = XLSX_ROWS_MAX;
	x->colref = xmalloc(ncols * sizeof *x->colref);
	for (size_t col = 0; col < ncols; col++) { /* bijective base 26: A..Z, AA..ZZ, AAA.. */
		char rev[4];
		size_t n = 0;
		for (size_t v = col + 1; v > 0; v = (v - 1) / 26)
			rev[n++] = (char)('A' + (v - 1) % 26);
		for (size_t i = 0; i < n; i++)
			x->colref[col][i] = rev[n - 1 - i];
		x->colref[col][n] = '\0';
	}
	if (write_fixed_parts(x) != 0 || sheet_start(x) != 0) {
		*err = x->error;
		xlsx_writer_free(x);
		return NULL;
	}
	return x;
}

void xlsx_writer_set_sheet_rows(xlsx_writer *x, uint32_t rows)
{
	x->sheet_rows = rows < 2 ? 2 : rows;
}

int xlsx_writer_finish(xlsx_writer *x)
{
	if (x->error || sheet_end(x) != 0 || write_listing_parts(x) != 0)
		return -1;
	if (zip_writer_finish(x->zip) != 0)
		return fail(x, zip_writer_error(x->zip));
	return 0;
}

const char *xlsx_writer_error(const xlsx_writer *x)
{
	return x->error;
}

void xlsx_writer_free(xlsx_writer *x)
{
	if (x == NULL)
		return;
	zip_writer_free(x->zip);
	free(x->colref);
	free(x->xml);
	free(x);
}
