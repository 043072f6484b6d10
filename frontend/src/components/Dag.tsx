// Draws a workflow's steps as a left-to-right graph: each step sits one column
// right of its deepest parent. Nodes are buttons, so a step can be chosen by
// keyboard as well as by mouse.
import { useMemo } from "react";
import {
  Background,
  Handle,
  Position,
  ReactFlow,
  type Edge,
  type Node,
  type NodeProps,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { statusLabel, statusTone, type Status } from "./StatusBadge";

export interface DagStep {
  id: string;
  label: string;
  /** Ids of the steps this one waits for. */
  parents: string[];
  status?: Status;
}

export interface DagProps {
  steps: DagStep[];
  selectedId?: string | null;
  onSelect?: (stepId: string) => void;
  /** Height of the drawing area in pixels. */
  height?: number;
}

const nodeWidth = 180;
const nodeHeight = 56;
const columnWidth = nodeWidth + 60;
const rowHeight = nodeHeight + 24;

/**
 * Longest-path layering: a step's column is one more than its deepest parent's.
 * Parents that are not in `steps` are ignored, and a cycle (which the server
 * refuses to register) cannot loop forever because a step on it gets column 0.
 */
export function layerSteps(steps: DagStep[]): Map<string, number> {
  const byId = new Map(steps.map((step) => [step.id, step]));
  const layers = new Map<string, number>();
  const visiting = new Set<string>();

  const layerOf = (id: string): number => {
    const known = layers.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) return 0;
    visiting.add(id);
    const parents = byId.get(id)?.parents.filter((parent) => byId.has(parent)) ?? [];
    const layer = parents.length === 0 ? 0 : 1 + Math.max(...parents.map(layerOf));
    visiting.delete(id);
    layers.set(id, layer);
    return layer;
  };

  for (const step of steps) layerOf(step.id);
  return layers;
}

interface StepNodeData extends Record<string, unknown> {
  step: DagStep;
  isSelected: boolean;
  onSelect?: (stepId: string) => void;
}

type StepNode = Node<StepNodeData, "step">;

function StepNodeView({ data }: NodeProps<StepNode>) {
  const { step, isSelected, onSelect } = data;
  const tone = step.status ? statusTone(step.status) : "neutral";
  return (
    <>
      <Handle type="target" position={Position.Left} isConnectable={false} />
      {/* "nopan nodrag" tell React Flow a press here is a click, not the start of a pan. */}
      <button
        type="button"
        className={`dag-node nopan nodrag tone-${tone}${isSelected ? " selected" : ""}`}
        aria-pressed={isSelected}
        onClick={() => onSelect?.(step.id)}
      >
        <span className="dag-node-label">{step.label}</span>
        {step.status && <span className="dag-node-status">{statusLabel(step.status)}</span>}
      </button>
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </>
  );
}

const nodeTypes = { step: StepNodeView };

export function Dag({ steps, selectedId = null, onSelect, height = 320 }: DagProps) {
  const { nodes, edges } = useMemo(() => {
    const layers = layerSteps(steps);
    const rowsUsed = new Map<number, number>();
    const nodes: StepNode[] = steps.map((step) => {
      const layer = layers.get(step.id) ?? 0;
      const row = rowsUsed.get(layer) ?? 0;
      rowsUsed.set(layer, row + 1);
      return {
        id: step.id,
        type: "step",
        position: { x: layer * columnWidth, y: row * rowHeight },
        // Fixed sizes let the graph draw and fit at once, without measuring first.
        width: nodeWidth,
        height: nodeHeight,
        // React Flow turns off pointer events on nodes it considers inert; the
        // button inside must still be clickable.
        style: { pointerEvents: "all" },
        data: { step, isSelected: step.id === selectedId, onSelect },
        draggable: false,
        connectable: false,
        // The inner button takes focus; the wrapper would be a second tab stop.
        focusable: false,
      };
    });
    const ids = new Set(steps.map((step) => step.id));
    const edges: Edge[] = steps.flatMap((step) =>
      step.parents
        .filter((parent) => ids.has(parent))
        .map((parent) => ({ id: `${parent}->${step.id}`, source: parent, target: step.id })),
    );
    return { nodes, edges };
  }, [steps, selectedId, onSelect]);

  return (
    <div className="dag" style={{ height }} aria-label="Step graph" role="group">
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        fitView
        nodesDraggable={false}
        nodesConnectable={false}
        elementsSelectable={false}
        disableKeyboardA11y
        proOptions={{ hideAttribution: true }}
      >
        <Background />
      </ReactFlow>
    </div>
  );
}
