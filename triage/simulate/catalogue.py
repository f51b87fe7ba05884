# ruff: noqa: E501 -- spec texts are quoted verbatim from the suite and cannot be wrapped
"""The SignalProcessing integration suite's specs: files, lines, container and leaf texts.

Texts and locations are those of kubernaut's test/integration/signalprocessing at a59c5629e (92 specs,
2 of them PIt). `kind` says what a spec does to the audit pipeline: `audit` (creates an SP and polls
DataStorage with countAuditEvents), `severity-audit` (same with the severity suite's helper), `sp`
(creates an SP and waits for completion), `plain` (no SignalProcessing).
"""

from __future__ import annotations

from dataclasses import dataclass

SUITE_DIR = "/Users/jgil/go/src/github.com/jordigilh/kubernaut/test/integration/signalprocessing"
SUITE_DESCRIPTION = "SignalProcessing Controller Integration Suite (ENVTEST)"


@dataclass(frozen=True)
class SpecDef:
    """One It/PIt of a suite.

    `suite` is the suite's directory. The last five fields describe the audit specs of the services
    other than SignalProcessing (kind `audit-check`): how many events of `event_type` the spec
    expects, how it waits for them (`pattern`, see triage/simulate/services.py), the Eventually's
    timeout and polling interval, and the line of the assertion that fails.
    """

    file: str
    line: int
    containers: tuple[str, ...]
    text: str
    kind: str
    event_type: str
    rr_name: str
    pending: bool
    serial: bool
    suite: str = SUITE_DIR
    expected: int = 1
    pattern: str = ""
    timeout_s: float = 0.0
    interval_s: float = 0.0
    check_line: int = 0

    @property
    def full_text(self) -> str:
        """The name as Ginkgo joins it: container texts and leaf text separated by spaces."""
        return " ".join((*self.containers, self.text))

    @property
    def location(self) -> str:
        """The It's code location as Ginkgo prints it."""
        return f"{self.suite}/{self.file}:{self.line}"


def _(
    file: str,
    line: int,
    containers: tuple[str, ...],
    text: str,
    kind: str,
    event_type: str = "",
    rr_name: str = "",
    pending: bool = False,
    serial: bool = False,
) -> SpecDef:
    return SpecDef(file, line, containers, text, kind, event_type, rr_name, pending, serial)


CATALOGUE: tuple[SpecDef, ...] = (
    _(
        "audit_integration_test.go",
        180,
        (
            "BR-SP-090: SignalProcessing → Data Storage Audit Integration",
            "when signal processing completes successfully (BR-SP-090)",
        ),
        "should create 'signalprocessing.signal.processed' audit event in Data Storage",
        "audit",
        "signalprocessing.signal.processed",
        "audit-test-rr-01",
    ),
    _(
        "audit_integration_test.go",
        274,
        (
            "BR-SP-090: SignalProcessing → Data Storage Audit Integration",
            "when classification decision is made (BR-SP-090)",
        ),
        "should create 'classification.decision' audit event with all categorization results",
        "audit",
        "signalprocessing.classification.decision",
        "audit-test-rr-02",
    ),
    _(
        "audit_integration_test.go",
        360,
        (
            "BR-SP-090: SignalProcessing → Data Storage Audit Integration",
            "when business classification is applied (AUDIT-06, BR-SP-002)",
        ),
        "should create 'business.classified' audit event with criticality and SLA",
        "audit",
        "signalprocessing.business.classified",
        "audit-test-rr-03",
    ),
    _(
        "audit_integration_test.go",
        444,
        (
            "BR-SP-090: SignalProcessing → Data Storage Audit Integration",
            "when K8s enrichment completes (BR-SP-090)",
        ),
        "should create 'enrichment.completed' audit event with enrichment details",
        "audit",
        "signalprocessing.enrichment.completed",
        "audit-test-rr-06",
    ),
    _(
        "audit_integration_test.go",
        570,
        (
            "BR-SP-090: SignalProcessing → Data Storage Audit Integration",
            "when phase transitions occur (BR-SP-090)",
        ),
        "should create 'phase.transition' audit events for each phase change",
        "audit",
        "signalprocessing.phase.transition",
        "audit-test-rr-04",
    ),
    _(
        "audit_integration_test.go",
        662,
        (
            "BR-SP-090: SignalProcessing → Data Storage Audit Integration",
            "when errors occur during processing (BR-SP-090, ADR-038)",
        ),
        "should create 'error.occurred' audit event with error details",
        "audit",
        "signalprocessing.error.occurred",
        "audit-test-rr-05",
    ),
    _(
        "audit_integration_test.go",
        782,
        (
            "BR-SP-090: SignalProcessing → Data Storage Audit Integration",
            "when errors occur during processing (BR-SP-090, ADR-038)",
        ),
        "should emit 'error.occurred' event for fatal enrichment errors (namespace not found)",
        "audit",
        "signalprocessing.error.occurred",
        "audit-test-rr-07",
    ),
    _(
        "component_integration_test.go",
        70,
        ("SignalProcessing Component Integration", "K8sEnricher - Real K8s API Interaction"),
        "BR-SP-001: should enrich Pod context from real K8s API",
        "plain",
    ),
    _(
        "component_integration_test.go",
        136,
        ("SignalProcessing Component Integration", "K8sEnricher - Real K8s API Interaction"),
        "BR-SP-001: should enrich Deployment context from real K8s API",
        "plain",
    ),
    _(
        "component_integration_test.go",
        178,
        ("SignalProcessing Component Integration", "K8sEnricher - Real K8s API Interaction"),
        "BR-SP-001: should enrich StatefulSet context from real K8s API",
        "plain",
    ),
    _(
        "component_integration_test.go",
        235,
        ("SignalProcessing Component Integration", "K8sEnricher - Real K8s API Interaction"),
        "BR-SP-001: should enrich Service context from real K8s API",
        "plain",
    ),
    _(
        "component_integration_test.go",
        288,
        ("SignalProcessing Component Integration", "K8sEnricher - Real K8s API Interaction"),
        "BR-SP-001: should enrich Namespace context with labels and annotations",
        "plain",
    ),
    _(
        "component_integration_test.go",
        327,
        ("SignalProcessing Component Integration", "K8sEnricher - Real K8s API Interaction"),
        "BR-SP-001: should fall back to degraded mode when resource not found",
        "plain",
    ),
    _(
        "component_integration_test.go",
        370,
        ("SignalProcessing Component Integration", "Environment Classifier - Real ConfigMap Interaction"),
        "BR-SP-052: should classify environment from real ConfigMap",
        "plain",
    ),
    _(
        "component_integration_test.go",
        407,
        ("SignalProcessing Component Integration", "Environment Classifier - Real ConfigMap Interaction"),
        "BR-SP-051: should prioritize namespace label over ConfigMap rules",
        "plain",
    ),
    _(
        "component_integration_test.go",
        454,
        ("SignalProcessing Component Integration", "Priority Engine - Real Rego Evaluation"),
        "BR-SP-070: should assign priority using real Rego evaluation",
        "plain",
    ),
    _(
        "component_integration_test.go",
        492,
        ("SignalProcessing Component Integration", "Priority Engine - Real Rego Evaluation"),
        "BR-SP-071: should fall back to severity-only priority when environment unknown",
        "plain",
    ),
    _(
        "component_integration_test.go",
        527,
        ("SignalProcessing Component Integration", "Priority Engine - Real Rego Evaluation"),
        "BR-SP-072: should load priority policy from ConfigMap",
        "plain",
    ),
    _(
        "component_integration_test.go",
        573,
        ("SignalProcessing Component Integration", "Business Classifier - Label and Pattern Based"),
        "BR-SP-002: should classify business unit from namespace label",
        "plain",
    ),
    _(
        "component_integration_test.go",
        609,
        ("SignalProcessing Component Integration", "Business Classifier - Label and Pattern Based"),
        "BR-SP-002: should classify business unit from namespace pattern",
        "plain",
    ),
    _(
        "component_integration_test.go",
        650,
        ("SignalProcessing Component Integration", "OwnerChain Builder - Real K8s Traversal"),
        "BR-SP-100: should traverse owner chain using real K8s API",
        "plain",
    ),
    _(
        "component_integration_test.go",
        735,
        ("SignalProcessing Component Integration", "Detection LabelDetector - Real K8s Queries"),
        "BR-SP-101: should detect PDB using real K8s query",
        "plain",
    ),
    _(
        "component_integration_test.go",
        777,
        ("SignalProcessing Component Integration", "Detection LabelDetector - Real K8s Queries"),
        "BR-SP-101: should detect HPA using real K8s query",
        "plain",
    ),
    _(
        "component_integration_test.go",
        821,
        ("SignalProcessing Component Integration", "Detection LabelDetector - Real K8s Queries"),
        "COMPONENT-04: should detect HPA via owner chain traversal (BR-SP-101)",
        "plain",
    ),
    _(
        "component_integration_test.go",
        906,
        ("SignalProcessing Component Integration", "Detection LabelDetector - Real K8s Queries"),
        "BR-SP-101: should detect NetworkPolicy using real K8s query",
        "plain",
    ),
    _(
        "component_integration_test.go",
        951,
        ("SignalProcessing Component Integration", "Priority 3: GitOps Detection (detectGitOps)"),
        "should detect Flux GitOps via namespace annotation",
        "plain",
    ),
    _(
        "component_integration_test.go",
        1000,
        ("SignalProcessing Component Integration", "Priority 3: GitOps Detection (detectGitOps)"),
        "should detect ArgoCD GitOps via namespace annotation",
        "plain",
    ),
    _(
        "component_integration_test.go",
        1049,
        ("SignalProcessing Component Integration", "Priority 3: GitOps Detection (detectGitOps)"),
        "should not detect GitOps when no GitOps annotations present",
        "plain",
    ),
    _(
        "component_integration_test.go",
        1091,
        ("SignalProcessing Component Integration", "Priority 3: PDB Detection (detectPDB) - Edge Cases"),
        "should not detect PDB when selector doesn't match pod labels",
        "plain",
    ),
    _(
        "component_integration_test.go",
        1135,
        ("SignalProcessing Component Integration", "Priority 3: PDB Detection (detectPDB) - Edge Cases"),
        "should detect PDB when one of multiple PDBs matches",
        "plain",
    ),
    _(
        "component_integration_test.go",
        1181,
        ("SignalProcessing Component Integration", "Priority 3: HPA Detection (detectHPA) - Edge Cases"),
        "should not detect HPA when HPA targets different deployment",
        "plain",
    ),
    _(
        "component_integration_test.go",
        1227,
        ("SignalProcessing Component Integration", "Priority 3: HPA Detection (detectHPA) - Edge Cases"),
        "should detect HPA when one of multiple HPAs matches",
        "plain",
    ),
    _(
        "component_integration_test.go",
        1274,
        ("SignalProcessing Component Integration", "Priority 3: HPA Detection (detectHPA) - Edge Cases"),
        "should detect HPA for Pod signal when Pod is owned by Deployment with HPA",
        "plain",
    ),
    _(
        "hot_reloader_test.go",
        111,
        ("SignalProcessing Hot-Reload Integration", "File Watch - ConfigMap Change Detection"),
        "BR-SP-072: should detect policy file change in ConfigMap",
        "plain",
        serial=True,
    ),
    _(
        "hot_reloader_test.go",
        198,
        ("SignalProcessing Hot-Reload Integration", "Reload - Valid Policy Application"),
        "BR-SP-072: should apply valid updated policy immediately",
        "plain",
        serial=True,
    ),
    _(
        "hot_reloader_test.go",
        285,
        ("SignalProcessing Hot-Reload Integration", "Graceful - Invalid Policy Fallback"),
        "BR-SP-072: should retain old policy when update is invalid",
        "plain",
        serial=True,
    ),
    _(
        "metrics_integration_test.go",
        170,
        ("Metrics Integration via Business Flows", "Processing Metrics via SignalProcessing Lifecycle"),
        "should emit processing metrics during successful Signal lifecycle - BR-SIGNALPROCESSING-OBSERVABILITY-001",
        "sp",
    ),
    _(
        "metrics_integration_test.go",
        232,
        ("Metrics Integration via Business Flows", "Enrichment Metrics via K8s Resource Processing"),
        "should emit enrichment metrics during Pod enrichment - BR-SIGNALPROCESSING-OBSERVABILITY-001",
        "sp",
    ),
    _(
        "metrics_integration_test.go",
        287,
        ("Metrics Integration via Business Flows", "Error Metrics via Failure Scenarios"),
        "should emit error metrics when enrichment encounters missing resources - BR-SIGNALPROCESSING-OBSERVABILITY-001",
        "sp",
    ),
    _(
        "reconciler_integration_test.go",
        78,
        ("SignalProcessing Reconciler Integration", "Happy Path - Phase Transitions"),
        "BR-SP-070, BR-SP-051: should process production pod signal and assign P0 priority",
        "sp",
    ),
    _(
        "reconciler_integration_test.go",
        124,
        ("SignalProcessing Reconciler Integration", "Happy Path - Phase Transitions"),
        "BR-SP-070, BR-SP-051: should process staging deployment signal and assign P2 priority",
        "sp",
    ),
    _(
        "reconciler_integration_test.go",
        168,
        ("SignalProcessing Reconciler Integration", "Happy Path - Phase Transitions"),
        "BR-SP-070, BR-SP-051: should process dev service signal and assign P3 priority",
        "sp",
    ),
    _(
        "reconciler_integration_test.go",
        207,
        ("SignalProcessing Reconciler Integration", "Happy Path - Phase Transitions"),
        "BR-SP-051: should classify environment from namespace label with high confidence",
        "sp",
    ),
    _(
        "reconciler_integration_test.go",
        245,
        ("SignalProcessing Reconciler Integration", "Happy Path - Phase Transitions"),
        "BR-SP-052: should classify environment from ConfigMap fallback",
        "sp",
    ),
    _(
        "reconciler_integration_test.go",
        279,
        ("SignalProcessing Reconciler Integration", "Happy Path - Phase Transitions"),
        "BR-SP-002: should classify business unit from namespace labels",
        "sp",
    ),
    _(
        "reconciler_integration_test.go",
        318,
        ("SignalProcessing Reconciler Integration", "Happy Path - Phase Transitions"),
        "BR-SP-100: should build owner chain from Pod to Deployment",
        "sp",
    ),
    _(
        "reconciler_integration_test.go",
        395,
        ("SignalProcessing Reconciler Integration", "Happy Path - Phase Transitions"),
        "BR-SP-101: should detect PDB protection",
        "sp",
    ),
    _(
        "reconciler_integration_test.go",
        437,
        ("SignalProcessing Reconciler Integration", "Happy Path - Phase Transitions"),
        "BR-SP-101: should detect HPA enabled",
        "sp",
    ),
    _(
        "reconciler_integration_test.go",
        478,
        ("SignalProcessing Reconciler Integration", "Happy Path - Phase Transitions"),
        "BR-SP-102: should populate CustomLabels from Rego policy",
        "sp",
    ),
    _(
        "reconciler_integration_test.go",
        528,
        ("SignalProcessing Reconciler Integration", "Edge Cases"),
        "BR-SP-053: should default to unknown environment when no labels",
        "sp",
    ),
    _(
        "reconciler_integration_test.go",
        563,
        ("SignalProcessing Reconciler Integration", "Edge Cases"),
        "BR-SP-001: should enter degraded mode when pod not found",
        "sp",
    ),
    _(
        "reconciler_integration_test.go",
        597,
        ("SignalProcessing Reconciler Integration", "Edge Cases"),
        "Controller: should handle concurrent reconciliation of 10 CRs",
        "sp",
    ),
    _(
        "reconciler_integration_test.go",
        641,
        ("SignalProcessing Reconciler Integration", "Edge Cases"),
        "Robustness: should handle minimal spec with default values",
        "sp",
    ),
    _(
        "reconciler_integration_test.go",
        674,
        ("SignalProcessing Reconciler Integration", "Edge Cases"),
        "Robustness: should handle special characters in namespace",
        "sp",
    ),
    _(
        "reconciler_integration_test.go",
        707,
        ("SignalProcessing Reconciler Integration", "Edge Cases"),
        "BR-SP-100: should stop owner chain traversal at 5 levels",
        "sp",
    ),
    _(
        "reconciler_integration_test.go",
        783,
        ("SignalProcessing Reconciler Integration", "Edge Cases"),
        "BR-SP-103: should have empty FailedDetections when all queries succeed",
        "sp",
    ),
    _(
        "reconciler_integration_test.go",
        821,
        ("SignalProcessing Reconciler Integration", "Edge Cases"),
        "BR-SP-102: should handle Rego policy returning multiple keys",
        "sp",
    ),
    _(
        "reconciler_integration_test.go",
        883,
        ("SignalProcessing Reconciler Integration", "Error Handling"),
        "Error-Cat-D: should handle status update conflicts gracefully",
        "sp",
    ),
    _(
        "reconciler_integration_test.go",
        913,
        ("SignalProcessing Reconciler Integration", "Error Handling"),
        "Error-Cat-C: should use defaults when Rego policy has syntax error",
        "sp",
    ),
    _(
        "reconciler_integration_test.go",
        966,
        ("SignalProcessing Reconciler Integration", "Error Handling"),
        "ADR-038: should continue processing when audit write fails",
        "sp",
    ),
    _(
        "reconciler_integration_test.go",
        999,
        ("SignalProcessing Reconciler Integration", "Error Handling"),
        "Error-Cat-A: should fail permanently with invalid spec",
        "sp",
    ),
    _(
        "reconciler_integration_test.go",
        1058,
        ("SignalProcessing Reconciler Integration", "BR-SP-003 - Recovery Context Integration"),
        "RC-001: should return nil recovery context for first attempt (RecoveryAttempts=0)",
        "sp",
    ),
    _(
        "reconciler_integration_test.go",
        1139,
        ("SignalProcessing Reconciler Integration", "BR-SP-003 - Recovery Context Integration"),
        "RC-002: should populate recovery context for retry attempt (RecoveryAttempts>0)",
        "sp",
    ),
    _(
        "reconciler_integration_test.go",
        1230,
        ("SignalProcessing Reconciler Integration", "BR-SP-003 - Recovery Context Integration"),
        "RC-003: should return nil recovery context when RemediationRequest not found",
        "sp",
    ),
    _(
        "reconciler_integration_test.go",
        1279,
        ("SignalProcessing Reconciler Integration", "BR-SP-003 - Recovery Context Integration"),
        "RC-004: should return nil recovery context when no RR reference provided",
        "sp",
    ),
    _(
        "reconciler_integration_test.go",
        1333,
        ("SignalProcessing Reconciler Integration", "Kubernetes Conditions (BR-SP-110)"),
        "BR-SP-110: should set all 4 conditions on successful processing",
        "sp",
    ),
    _(
        "reconciler_integration_test.go",
        1387,
        ("SignalProcessing Reconciler Integration", "Kubernetes Conditions (BR-SP-110)"),
        "BR-SP-110: should have informative condition messages",
        "sp",
    ),
    _(
        "reconciler_integration_test.go",
        1450,
        ("SignalProcessing Reconciler Integration", "BR-SP-111: Shared Exponential Backoff Integration"),
        "BR-SP-111: should have zero consecutive failures on successful processing",
        "sp",
    ),
    _(
        "reconciler_integration_test.go",
        1490,
        ("SignalProcessing Reconciler Integration", "BR-SP-111: Shared Exponential Backoff Integration"),
        "BR-SP-111: should initialize ConsecutiveFailures to zero on new CR",
        "sp",
    ),
    _(
        "reconciler_integration_test.go",
        1522,
        ("SignalProcessing Reconciler Integration", "BR-SP-111: Shared Exponential Backoff Integration"),
        "BR-SP-111: should maintain zero failures across multiple phase transitions",
        "sp",
    ),
    _(
        "reconciler_integration_test.go",
        1572,
        ("SignalProcessing Reconciler Integration", "BR-SP-111: Shared Exponential Backoff Integration"),
        "BR-SP-111: should have ConsecutiveFailures and LastFailureTime fields in status",
        "sp",
    ),
    _(
        "rego_integration_test.go",
        71,
        ("SignalProcessing Rego Integration", "Policy Load - ConfigMap Integration"),
        "BR-SP-051: should load environment.rego policy from ConfigMap",
        "plain",
    ),
    _(
        "rego_integration_test.go",
        108,
        ("SignalProcessing Rego Integration", "Policy Load - ConfigMap Integration"),
        "BR-SP-070: should load priority.rego policy from ConfigMap",
        "plain",
    ),
    _(
        "rego_integration_test.go",
        154,
        ("SignalProcessing Rego Integration", "Evaluation - Rego Policy Execution"),
        "BR-SP-051: should evaluate environment classification rules correctly",
        "plain",
    ),
    _(
        "rego_integration_test.go",
        191,
        ("SignalProcessing Rego Integration", "Evaluation - Rego Policy Execution"),
        "BR-SP-070: should evaluate priority assignment rules correctly",
        "plain",
    ),
    _(
        "rego_integration_test.go",
        243,
        ("SignalProcessing Rego Integration", "Fallback - Error Recovery"),
        "BR-SP-053: should fall back to defaults when ConfigMap is missing",
        "plain",
    ),
    _(
        "rego_integration_test.go",
        285,
        ("SignalProcessing Rego Integration", "Concurrent - Parallel Execution"),
        "Stability: should handle 10 parallel Rego evaluations",
        "plain",
    ),
    _(
        "rego_integration_test.go",
        339,
        ("SignalProcessing Rego Integration", "Timeout - Execution Limits"),
        "DD-WORKFLOW-001: should enforce 5s timeout on Rego evaluation",
        "plain",
    ),
    _(
        "rego_integration_test.go",
        405,
        ("SignalProcessing Rego Integration", "Validation - Output Limits"),
        "DD-WORKFLOW-001: should truncate values longer than 100 characters",
        "plain",
    ),
    _(
        "rego_integration_test.go",
        463,
        ("SignalProcessing Rego Integration", "Validation - Output Limits"),
        "DD-WORKFLOW-001: should limit CustomLabels to 10 keys maximum",
        "plain",
    ),
    _(
        "setup_verification_test.go",
        34,
        ("SignalProcessing Integration Setup Verification", "ENVTEST Environment"),
        "should have a working k8sClient",
        "plain",
    ),
    _(
        "setup_verification_test.go",
        38,
        ("SignalProcessing Integration Setup Verification", "ENVTEST Environment"),
        "should be able to create and delete SignalProcessing CRD",
        "sp",
    ),
    _(
        "severity_integration_test.go",
        91,
        ("Severity Determination Integration Tests", "BR-SP-105: CRD Status Integration"),
        "should persist normalized severity in SignalProcessing.Status.Severity",
        "sp",
    ),
    _(
        "severity_integration_test.go",
        127,
        ("Severity Determination Integration Tests", "BR-SP-105: CRD Status Integration"),
        "should preserve external severity in Spec.Signal.Severity",
        "sp",
    ),
    _(
        "severity_integration_test.go",
        159,
        ("Severity Determination Integration Tests", "BR-SP-105: CRD Status Integration"),
        "should update Status.Severity when Rego policy changes",
        "sp",
    ),
    _(
        "severity_integration_test.go",
        213,
        ("Severity Determination Integration Tests", "BR-SP-105: Audit Event Integration (DD-TESTING-001)"),
        "should emit 'classification.decision' audit event with both external and normalized severity",
        "severity-audit",
        "signalprocessing.classification.decision",
        "",
    ),
    _(
        "severity_integration_test.go",
        297,
        ("Severity Determination Integration Tests", "BR-SP-105: Audit Event Integration (DD-TESTING-001)"),
        "should emit audit event with policy-defined fallback severity",
        "severity-audit",
        "signalprocessing.classification.decision",
        "",
    ),
    _(
        "severity_integration_test.go",
        372,
        ("Severity Determination Integration Tests", "BR-SP-105: Audit Event Integration (DD-TESTING-001)"),
        "should include policy hash in audit event for policy version traceability",
        "sp",
        pending=True,
    ),
    _(
        "severity_integration_test.go",
        432,
        ("Severity Determination Integration Tests", "BR-SP-105: Error Handling Integration"),
        "should transition to Failed phase if Rego policy evaluation fails persistently",
        "sp",
        pending=True,
    ),
    _(
        "severity_integration_test.go",
        468,
        ("Severity Determination Integration Tests", "BR-SP-105: Error Handling Integration"),
        "should emit error audit event when severity determination fails",
        "severity-audit",
        "signalprocessing.error.occurred",
        "",
    ),
    _(
        "severity_integration_test.go",
        520,
        ("Severity Determination Integration Tests", "BR-SP-105: ConfigMap Hot-Reload Integration"),
        "should detect policy updates and reload severity determination logic",
        "sp",
    ),
    _(
        "severity_integration_test.go",
        572,
        ("Severity Determination Integration Tests", "BR-SP-105: Parallel Execution Safety"),
        "should handle concurrent severity determinations without race conditions",
        "sp",
    ),
)
