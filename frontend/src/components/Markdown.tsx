// A small Markdown renderer for model outputs: headings, paragraphs, lists, quotes,
// code blocks, and inline code, emphasis and links. It builds React elements, never
// HTML text, so whatever a model writes (a <script> tag too) shows as text.
import type { ReactNode } from "react";

/** Whether text uses Markdown a reader would otherwise see as stray marks. */
export function looksLikeMarkdown(text: string): boolean {
  return [
    /^#{1,6}\s+\S/m, // a heading
    /^\s*(?:[-*+]|\d+[.)])\s+\S/m, // a list item
    /^```/m, // a code block
    /\*\*[^*\n]+\*\*|__[^_\n]+__/, // strong
    /(?:^|[\s(])[*_][^*_\s][^*_\n]*[*_](?=$|[\s.,;:!?)])/m, // emphasis
    /`[^`\n]+`/, // inline code
  ].some((pattern) => pattern.test(text));
}

type Block =
  | { kind: "heading"; level: number; text: string }
  | { kind: "paragraph"; text: string }
  | { kind: "list"; ordered: boolean; items: string[] }
  | { kind: "quote"; text: string }
  | { kind: "code"; text: string };

const heading = /^(#{1,6})\s+(.*?)\s*#*\s*$/;
const bullet = /^\s*[-*+]\s+(.*)$/;
const numbered = /^\s*\d+[.)]\s+(.*)$/;
const fence = /^```/;

/** The blocks of a Markdown text, in order. */
export function markdownBlocks(text: string): Block[] {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  const blocks: Block[] = [];
  let index = 0;
  while (index < lines.length) {
    const line = lines[index]!;
    if (line.trim() === "") {
      index += 1;
    } else if (fence.test(line)) {
      const code: string[] = [];
      index += 1;
      while (index < lines.length && !fence.test(lines[index]!)) code.push(lines[index++]!);
      index += 1; // the closing fence, if any
      blocks.push({ kind: "code", text: code.join("\n") });
    } else if (heading.test(line)) {
      const [, marks, title] = heading.exec(line)!;
      blocks.push({ kind: "heading", level: marks!.length, text: title! });
      index += 1;
    } else if (bullet.test(line) || numbered.test(line)) {
      const ordered = !bullet.test(line);
      const item = ordered ? numbered : bullet;
      const items: string[] = [];
      while (index < lines.length && item.test(lines[index]!)) {
        items.push(item.exec(lines[index++]!)![1]!);
        // A following indented line continues the item.
        while (
          index < lines.length &&
          /^\s{2,}\S/.test(lines[index]!) &&
          !bullet.test(lines[index]!) &&
          !numbered.test(lines[index]!)
        ) {
          items[items.length - 1] += ` ${lines[index++]!.trim()}`;
        }
      }
      blocks.push({ kind: "list", ordered, items });
    } else if (line.startsWith(">")) {
      const quoted: string[] = [];
      while (index < lines.length && lines[index]!.startsWith(">")) {
        quoted.push(lines[index++]!.replace(/^>\s?/, ""));
      }
      blocks.push({ kind: "quote", text: quoted.join("\n") });
    } else {
      const paragraph: string[] = [];
      while (
        index < lines.length &&
        lines[index]!.trim() !== "" &&
        !fence.test(lines[index]!) &&
        !heading.test(lines[index]!) &&
        !bullet.test(lines[index]!) &&
        !numbered.test(lines[index]!) &&
        !lines[index]!.startsWith(">")
      ) {
        paragraph.push(lines[index++]!);
      }
      blocks.push({ kind: "paragraph", text: paragraph.join("\n") });
    }
  }
  return blocks;
}

// Inline marks, tried at each position in this order.
const inline =
  /`([^`\n]+)`|\*\*([^*\n]+)\*\*|__([^_\n]+)__|\*([^*\s][^*\n]*?)\*|(?<!\w)_([^_\s][^_\n]*?)_(?!\w)|\[([^\]\n]+)\]\(([^)\s]+)\)/g;
const safeLink = /^(https?:|mailto:)/i;

function inlineNodes(text: string): ReactNode[] {
  const nodes: ReactNode[] = [];
  let last = 0;
  for (const match of text.matchAll(inline)) {
    const at = match.index;
    if (at > last) nodes.push(text.slice(last, at));
    const [whole, code, strong, strongUnderscore, em, emUnderscore, label, href] = match;
    const key = nodes.length;
    if (code !== undefined) nodes.push(<code key={key}>{code}</code>);
    else if (strong !== undefined || strongUnderscore !== undefined)
      nodes.push(<strong key={key}>{inlineNodes(strong ?? strongUnderscore!)}</strong>);
    else if (em !== undefined || emUnderscore !== undefined)
      nodes.push(<em key={key}>{inlineNodes(em ?? emUnderscore!)}</em>);
    else if (label !== undefined && href !== undefined && safeLink.test(href))
      nodes.push(
        <a key={key} href={href} target="_blank" rel="noopener noreferrer nofollow">
          {inlineNodes(label)}
        </a>,
      );
    else nodes.push(whole); // a link to anything but the web or mail stays as written
    last = at + whole.length;
  }
  if (last < text.length) nodes.push(text.slice(last));
  return nodes;
}

/** Lines of a paragraph keep their breaks, as a person typing them meant. */
function withBreaks(text: string): ReactNode[] {
  return text
    .split("\n")
    .flatMap((line, index) => [
      ...(index > 0 ? [<br key={`br-${index}`} />] : []),
      ...inlineNodes(line),
    ]);
}

export function Markdown({ text }: { text: string }) {
  return (
    <div className="markdown">
      {markdownBlocks(text).map((block, index) => {
        switch (block.kind) {
          case "heading": {
            // Output headings sit under the page's own: h3 at the highest.
            const Tag = `h${Math.min(block.level + 2, 6)}` as "h3" | "h4" | "h5" | "h6";
            return <Tag key={index}>{inlineNodes(block.text)}</Tag>;
          }
          case "list": {
            const List = block.ordered ? "ol" : "ul";
            return (
              <List key={index}>
                {block.items.map((item, itemIndex) => (
                  <li key={itemIndex}>{inlineNodes(item)}</li>
                ))}
              </List>
            );
          }
          case "quote":
            return <blockquote key={index}>{withBreaks(block.text)}</blockquote>;
          case "code":
            return (
              <pre key={index} className="code">
                <code>{block.text}</code>
              </pre>
            );
          default:
            return <p key={index}>{withBreaks(block.text)}</p>;
        }
      })}
    </div>
  );
}
