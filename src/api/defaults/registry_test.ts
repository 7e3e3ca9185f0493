// Table-driven tests of applyDefaults: for each defaulted kind, a minimal manifest (the textbook's
// where there is one) and the whole object upstream v1.32 stores for it, and idempotency for all.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { applyDefaults, defaultedKinds, hasDefaults } from './registry.ts';
import type { JsonObject } from './json.ts';

interface Case {
  readonly name: string;
  readonly gvk: readonly [group: string, version: string, kind: string];
  readonly input: JsonObject;
  readonly expected: JsonObject;
}

const nginxContainer = { name: 'nginx', image: 'nginx:1.14.2', ports: [{ containerPort: 80 }] };
const nginxContainerDefaulted = {
  name: 'nginx',
  image: 'nginx:1.14.2',
  imagePullPolicy: 'IfNotPresent',
  ports: [{ containerPort: 80, protocol: 'TCP' }],
  resources: {},
  terminationMessagePath: '/dev/termination-log',
  terminationMessagePolicy: 'File',
};
// The defaulted PodSpec of a template (no enableServiceLinks: that is a Pod-only default).
function templateSpec(containers: unknown[] = [nginxContainerDefaulted]): JsonObject {
  return {
    containers,
    dnsPolicy: 'ClusterFirst',
    restartPolicy: 'Always',
    schedulerName: 'default-scheduler',
    securityContext: {},
    terminationGracePeriodSeconds: 30,
  };
}
const appLabels = { app: 'nginx' };
const nginxTemplate = { metadata: { labels: appLabels }, spec: { containers: [nginxContainer] } };
const nginxTemplateDefaulted = { metadata: { labels: appLabels }, spec: templateSpec() };

const cases: Case[] = [
  {
    name: 'the textbook nginx Pod',
    gvk: ['', 'v1', 'Pod'],
    input: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'nginx' }, spec: { containers: [nginxContainer] } },
    expected: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'nginx' },
      spec: { ...templateSpec(), enableServiceLinks: true },
    },
  },
  {
    name: 'a Pod with probes, env, volumes, limits, host network and the deprecated serviceAccount',
    gvk: ['', 'v1', 'Pod'],
    input: {
      metadata: { name: 'full' },
      spec: {
        hostNetwork: true,
        serviceAccount: 'builder',
        initContainers: [{ name: 'init', image: 'busybox' }],
        containers: [{
          name: 'app',
          image: 'registry.local:5000/team/app:latest',
          ports: [{ containerPort: 8080 }, { containerPort: 53, protocol: 'UDP', hostPort: 5353 }],
          env: [{ name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
          resources: { limits: { cpu: '0.5', memory: '128Mi' } },
          livenessProbe: { httpGet: { port: 8080 } },
          readinessProbe: { grpc: { port: 9000 }, periodSeconds: 5 },
          startupProbe: { exec: { command: ['true'] }, timeoutSeconds: 0 },
          lifecycle: { preStop: { httpGet: { port: 8080, path: '/stop' } } },
        }],
        ephemeralContainers: [{ name: 'debug', image: 'busybox@sha256:' + 'a'.repeat(64) }],
        volumes: [
          { name: 'scratch' },
          { name: 'cfg', configMap: { name: 'cfg' } },
          { name: 'sec', secret: { secretName: 's', defaultMode: 0o400 } },
          { name: 'host', hostPath: { path: '/var/log' } },
          { name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
          {
            name: 'token',
            projected: {
              sources: [
                { serviceAccountToken: { path: 'token' } },
                { downwardAPI: { items: [{ path: 'ns', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
              ],
            },
          },
          {
            name: 'eph',
            ephemeral: { volumeClaimTemplate: { spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } } },
          },
        ],
      },
    },
    expected: {
      metadata: { name: 'full' },
      spec: {
        hostNetwork: true,
        serviceAccount: 'builder',
        serviceAccountName: 'builder',
        enableServiceLinks: true,
        dnsPolicy: 'ClusterFirst',
        restartPolicy: 'Always',
        schedulerName: 'default-scheduler',
        securityContext: {},
        terminationGracePeriodSeconds: 30,
        initContainers: [{
          name: 'init',
          image: 'busybox',
          imagePullPolicy: 'Always',
          resources: {},
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
        }],
        containers: [{
          name: 'app',
          image: 'registry.local:5000/team/app:latest',
          imagePullPolicy: 'Always',
          ports: [
            { containerPort: 8080, hostPort: 8080, protocol: 'TCP' },
            { containerPort: 53, protocol: 'UDP', hostPort: 5353 },
          ],
          env: [{ name: 'NODE', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.nodeName' } } }],
          resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '500m', memory: '128Mi' } },
          livenessProbe: {
            httpGet: { port: 8080, path: '/', scheme: 'HTTP' },
            timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3,
          },
          readinessProbe: {
            grpc: { port: 9000, service: '' },
            periodSeconds: 5, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3,
          },
          startupProbe: {
            exec: { command: ['true'] },
            timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3,
          },
          lifecycle: { preStop: { httpGet: { port: 8080, path: '/stop', scheme: 'HTTP' } } },
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
        }],
        ephemeralContainers: [{
          name: 'debug',
          image: 'busybox@sha256:' + 'a'.repeat(64),
          imagePullPolicy: 'IfNotPresent',
          resources: {},
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
        }],
        volumes: [
          { name: 'scratch', emptyDir: {} },
          { name: 'cfg', configMap: { name: 'cfg', defaultMode: 420 } },
          { name: 'sec', secret: { secretName: 's', defaultMode: 0o400 } },
          { name: 'host', hostPath: { path: '/var/log', type: '' } },
          {
            name: 'info',
            downwardAPI: { defaultMode: 420, items: [{ path: 'labels', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.labels' } }] },
          },
          {
            name: 'token',
            projected: {
              defaultMode: 420,
              sources: [
                { serviceAccountToken: { path: 'token', expirationSeconds: 3600 } },
                { downwardAPI: { items: [{ path: 'ns', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
              ],
            },
          },
          {
            name: 'eph',
            ephemeral: {
              volumeClaimTemplate: {
                spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, volumeMode: 'Filesystem' },
              },
            },
          },
        ],
      },
    },
  },
  {
    name: 'a PodTemplate',
    gvk: ['', 'v1', 'PodTemplate'],
    input: { metadata: { name: 't' }, template: nginxTemplate },
    expected: { metadata: { name: 't' }, template: nginxTemplateDefaulted },
  },
  {
    name: 'a ReplicationController (selector and labels from its template)',
    gvk: ['', 'v1', 'ReplicationController'],
    input: { metadata: { name: 'nginx' }, spec: { template: nginxTemplate } },
    expected: {
      metadata: { name: 'nginx', labels: appLabels },
      spec: { replicas: 1, selector: appLabels, template: nginxTemplateDefaulted },
    },
  },
  {
    name: 'the textbook Service',
    gvk: ['', 'v1', 'Service'],
    input: {
      metadata: { name: 'my-service' },
      spec: { selector: { 'app.kubernetes.io/name': 'MyApp' }, ports: [{ protocol: 'TCP', port: 80, targetPort: 9376 }] },
    },
    expected: {
      metadata: { name: 'my-service' },
      spec: {
        selector: { 'app.kubernetes.io/name': 'MyApp' },
        ports: [{ protocol: 'TCP', port: 80, targetPort: 9376 }],
        internalTrafficPolicy: 'Cluster',
        sessionAffinity: 'None',
        type: 'ClusterIP',
      },
    },
  },
  {
    name: 'a NodePort Service with ClientIP affinity',
    gvk: ['', 'v1', 'Service'],
    input: { metadata: { name: 'np' }, spec: { type: 'NodePort', sessionAffinity: 'ClientIP', ports: [{ port: 80 }] } },
    expected: {
      metadata: { name: 'np' },
      spec: {
        type: 'NodePort',
        sessionAffinity: 'ClientIP',
        sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } },
        ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }],
        externalTrafficPolicy: 'Cluster',
        internalTrafficPolicy: 'Cluster',
      },
    },
  },
  {
    name: 'a LoadBalancer Service',
    gvk: ['', 'v1', 'Service'],
    input: {
      metadata: { name: 'lb' },
      spec: { type: 'LoadBalancer', sessionAffinityConfig: { clientIP: { timeoutSeconds: 5 } }, ports: [{ port: 443, targetPort: 'https' }] },
      status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }, { hostname: 'lb.example' }] } },
    },
    expected: {
      metadata: { name: 'lb' },
      spec: {
        type: 'LoadBalancer',
        sessionAffinity: 'None',
        ports: [{ port: 443, targetPort: 'https', protocol: 'TCP' }],
        allocateLoadBalancerNodePorts: true,
        externalTrafficPolicy: 'Cluster',
        internalTrafficPolicy: 'Cluster',
      },
      status: { loadBalancer: { ingress: [{ ip: '192.0.2.1', ipMode: 'VIP' }, { hostname: 'lb.example' }] } },
    },
  },
  {
    name: 'an ExternalName Service',
    gvk: ['', 'v1', 'Service'],
    input: { metadata: { name: 'ext' }, spec: { type: 'ExternalName', externalName: 'db.example' } },
    expected: { metadata: { name: 'ext' }, spec: { type: 'ExternalName', externalName: 'db.example', sessionAffinity: 'None' } },
  },
  {
    name: 'Endpoints ports',
    gvk: ['', 'v1', 'Endpoints'],
    input: { metadata: { name: 'e' }, subsets: [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 80 }] }] },
    expected: { metadata: { name: 'e' }, subsets: [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 80, protocol: 'TCP' }] }] },
  },
  {
    name: 'a Secret with stringData',
    gvk: ['', 'v1', 'Secret'],
    input: { metadata: { name: 's' }, data: { a: 'b2xk', b: 'b2xk' }, stringData: { b: 'new', c: 'héllo' } },
    expected: { metadata: { name: 's' }, type: 'Opaque', data: { a: 'b2xk', b: 'bmV3', c: 'aMOpbGxv' } },
  },
  {
    name: 'a Namespace',
    gvk: ['', 'v1', 'Namespace'],
    input: { metadata: { name: 'dev', labels: { team: 'a' } } },
    expected: { metadata: { name: 'dev', labels: { team: 'a', 'kubernetes.io/metadata.name': 'dev' } }, status: { phase: 'Active' } },
  },
  {
    name: 'a Node reporting capacity only',
    gvk: ['', 'v1', 'Node'],
    input: { metadata: { name: 'n1' }, spec: { podCIDR: '10.42.0.0/24' }, status: { capacity: { cpu: '2', memory: '4026548Ki', pods: '110' } } },
    expected: {
      metadata: { name: 'n1' },
      spec: { podCIDR: '10.42.0.0/24', podCIDRs: ['10.42.0.0/24'] },
      status: { capacity: { cpu: '2', memory: '4026548Ki', pods: '110' }, allocatable: { cpu: '2', memory: '4026548Ki', pods: '110' } },
    },
  },
  {
    name: 'a PersistentVolume',
    gvk: ['', 'v1', 'PersistentVolume'],
    input: {
      metadata: { name: 'pv1' },
      spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/mnt/data' } },
    },
    expected: {
      metadata: { name: 'pv1' },
      spec: {
        capacity: { storage: '1Gi' },
        accessModes: ['ReadWriteOnce'],
        hostPath: { path: '/mnt/data', type: '' },
        persistentVolumeReclaimPolicy: 'Retain',
        volumeMode: 'Filesystem',
      },
      status: { phase: 'Pending' },
    },
  },
  {
    name: 'a PersistentVolumeClaim',
    gvk: ['', 'v1', 'PersistentVolumeClaim'],
    input: { metadata: { name: 'c' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
    expected: {
      metadata: { name: 'c' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, volumeMode: 'Filesystem' },
      status: { phase: 'Pending' },
    },
  },
  {
    name: 'a LimitRange for containers',
    gvk: ['', 'v1', 'LimitRange'],
    input: { metadata: { name: 'l' }, spec: { limits: [{ type: 'Container', max: { cpu: '1', memory: '1Gi' }, min: { cpu: '100m' } }, { type: 'Pod', max: { cpu: '2' } }] } },
    expected: {
      metadata: { name: 'l' },
      spec: {
        limits: [
          {
            type: 'Container',
            max: { cpu: '1', memory: '1Gi' },
            min: { cpu: '100m' },
            default: { cpu: '1', memory: '1Gi' },
            defaultRequest: { cpu: '1', memory: '1Gi' },
          },
          { type: 'Pod', max: { cpu: '2' } },
        ],
      },
    },
  },
  {
    name: 'a ResourceQuota (quantities rounded and canonical)',
    gvk: ['', 'v1', 'ResourceQuota'],
    input: { metadata: { name: 'q' }, spec: { hard: { cpu: '0.0001', memory: '1024Mi', pods: '10' } } },
    expected: { metadata: { name: 'q' }, spec: { hard: { cpu: '1m', memory: '1Gi', pods: '10' } } },
  },
  {
    name: 'the textbook nginx Deployment',
    gvk: ['apps', 'v1', 'Deployment'],
    input: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'nginx-deployment', labels: appLabels },
      spec: { replicas: 3, selector: { matchLabels: appLabels }, template: nginxTemplate },
    },
    expected: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'nginx-deployment', labels: appLabels },
      spec: {
        progressDeadlineSeconds: 600,
        replicas: 3,
        revisionHistoryLimit: 10,
        selector: { matchLabels: appLabels },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
        template: nginxTemplateDefaulted,
      },
    },
  },
  {
    name: 'a Recreate Deployment (no rollingUpdate block)',
    gvk: ['apps', 'v1', 'Deployment'],
    input: { metadata: { name: 'd' }, spec: { strategy: { type: 'Recreate' }, selector: { matchLabels: appLabels }, template: nginxTemplate } },
    expected: {
      metadata: { name: 'd' },
      spec: {
        replicas: 1,
        strategy: { type: 'Recreate' },
        revisionHistoryLimit: 10,
        progressDeadlineSeconds: 600,
        selector: { matchLabels: appLabels },
        template: nginxTemplateDefaulted,
      },
    },
  },
  {
    name: 'a ReplicaSet',
    gvk: ['apps', 'v1', 'ReplicaSet'],
    input: { metadata: { name: 'rs' }, spec: { selector: { matchLabels: appLabels }, template: nginxTemplate } },
    expected: { metadata: { name: 'rs' }, spec: { replicas: 1, selector: { matchLabels: appLabels }, template: nginxTemplateDefaulted } },
  },
  {
    name: 'a DaemonSet',
    gvk: ['apps', 'v1', 'DaemonSet'],
    input: { metadata: { name: 'ds' }, spec: { selector: { matchLabels: appLabels }, template: nginxTemplate } },
    expected: {
      metadata: { name: 'ds' },
      spec: {
        selector: { matchLabels: appLabels },
        template: nginxTemplateDefaulted,
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
        revisionHistoryLimit: 10,
      },
    },
  },
  {
    name: 'the textbook web StatefulSet with a claim template',
    gvk: ['apps', 'v1', 'StatefulSet'],
    input: {
      metadata: { name: 'web' },
      spec: {
        serviceName: 'nginx',
        selector: { matchLabels: appLabels },
        template: nginxTemplate,
        volumeClaimTemplates: [{ metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      },
    },
    expected: {
      metadata: { name: 'web' },
      spec: {
        serviceName: 'nginx',
        selector: { matchLabels: appLabels },
        template: nginxTemplateDefaulted,
        podManagementPolicy: 'OrderedReady',
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
        persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
        replicas: 1,
        revisionHistoryLimit: 10,
        volumeClaimTemplates: [{
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          metadata: { name: 'www' },
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, volumeMode: 'Filesystem' },
          status: { phase: 'Pending' },
        }],
      },
    },
  },
  {
    name: 'a StatefulSet of explicit RollingUpdate type (rollingUpdate stays unset)',
    gvk: ['apps', 'v1', 'StatefulSet'],
    input: { metadata: { name: 's' }, spec: { serviceName: 's', updateStrategy: { type: 'RollingUpdate' }, selector: { matchLabels: appLabels }, template: nginxTemplate } },
    expected: {
      metadata: { name: 's' },
      spec: {
        serviceName: 's',
        updateStrategy: { type: 'RollingUpdate' },
        podManagementPolicy: 'OrderedReady',
        persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
        replicas: 1,
        revisionHistoryLimit: 10,
        selector: { matchLabels: appLabels },
        template: nginxTemplateDefaulted,
      },
    },
  },
  {
    name: 'the textbook pi Job',
    gvk: ['batch', 'v1', 'Job'],
    input: {
      metadata: { name: 'pi' },
      spec: {
        template: { spec: { containers: [{ name: 'pi', image: 'perl:5.34.0', command: ['perl', '-Mbignum=bpi', '-wle', 'print bpi(2000)'] }], restartPolicy: 'Never' } },
        backoffLimit: 4,
      },
    },
    expected: {
      metadata: { name: 'pi' },
      spec: {
        backoffLimit: 4,
        completionMode: 'NonIndexed',
        completions: 1,
        manualSelector: false,
        parallelism: 1,
        podReplacementPolicy: 'TerminatingOrFailed',
        suspend: false,
        template: {
          spec: {
            containers: [{
              name: 'pi',
              image: 'perl:5.34.0',
              command: ['perl', '-Mbignum=bpi', '-wle', 'print bpi(2000)'],
              imagePullPolicy: 'IfNotPresent',
              resources: {},
              terminationMessagePath: '/dev/termination-log',
              terminationMessagePolicy: 'File',
            }],
            dnsPolicy: 'ClusterFirst',
            restartPolicy: 'Never',
            schedulerName: 'default-scheduler',
            securityContext: {},
            terminationGracePeriodSeconds: 30,
          },
        },
      },
    },
  },
  {
    name: 'an indexed Job with a pod failure policy and per-index backoff',
    gvk: ['batch', 'v1', 'Job'],
    input: {
      metadata: { name: 'idx' },
      spec: {
        parallelism: 2,
        completionMode: 'Indexed',
        backoffLimitPerIndex: 1,
        podFailurePolicy: { rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] }] },
        template: { metadata: { labels: appLabels }, spec: { containers: [nginxContainer], restartPolicy: 'Never' } },
      },
    },
    expected: {
      metadata: { name: 'idx', labels: appLabels },
      spec: {
        parallelism: 2,
        completionMode: 'Indexed',
        backoffLimitPerIndex: 1,
        backoffLimit: 2147483647,
        podFailurePolicy: { rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }] },
        podReplacementPolicy: 'Failed',
        suspend: false,
        manualSelector: false,
        template: { metadata: { labels: appLabels }, spec: { ...templateSpec(), restartPolicy: 'Never' } },
      },
    },
  },
  {
    name: 'the textbook hello CronJob',
    gvk: ['batch', 'v1', 'CronJob'],
    input: {
      metadata: { name: 'hello' },
      spec: {
        schedule: '* * * * *',
        jobTemplate: { spec: { template: { spec: { containers: [{ name: 'hello', image: 'busybox:1.28', command: ['date'] }], restartPolicy: 'OnFailure' } } } },
      },
    },
    expected: {
      metadata: { name: 'hello' },
      spec: {
        schedule: '* * * * *',
        concurrencyPolicy: 'Allow',
        suspend: false,
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 1,
        jobTemplate: {
          spec: {
            template: {
              spec: {
                containers: [{
                  name: 'hello',
                  image: 'busybox:1.28',
                  command: ['date'],
                  imagePullPolicy: 'IfNotPresent',
                  resources: {},
                  terminationMessagePath: '/dev/termination-log',
                  terminationMessagePolicy: 'File',
                }],
                dnsPolicy: 'ClusterFirst',
                restartPolicy: 'OnFailure',
                schedulerName: 'default-scheduler',
                securityContext: {},
                terminationGracePeriodSeconds: 30,
              },
            },
          },
        },
      },
    },
  },
  {
    name: 'an autoscaling/v2 HPA without metrics or behavior',
    gvk: ['autoscaling', 'v2', 'HorizontalPodAutoscaler'],
    input: { metadata: { name: 'h' }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 5 } },
    expected: {
      metadata: { name: 'h' },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
        maxReplicas: 5,
        minReplicas: 1,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }],
      },
    },
  },
  {
    name: 'an autoscaling/v2 HPA with a partial behavior',
    gvk: ['autoscaling', 'v2', 'HorizontalPodAutoscaler'],
    input: {
      metadata: { name: 'h' },
      spec: {
        minReplicas: 2,
        maxReplicas: 5,
        metrics: [{ type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } }],
        behavior: { scaleDown: { stabilizationWindowSeconds: 60 } },
      },
    },
    expected: {
      metadata: { name: 'h' },
      spec: {
        minReplicas: 2,
        maxReplicas: 5,
        metrics: [{ type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } }],
        behavior: {
          scaleUp: {
            stabilizationWindowSeconds: 0,
            selectPolicy: 'Max',
            policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }],
          },
          scaleDown: { stabilizationWindowSeconds: 60, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
        },
      },
    },
  },
  {
    name: 'an autoscaling/v1 HPA',
    gvk: ['autoscaling', 'v1', 'HorizontalPodAutoscaler'],
    input: { metadata: { name: 'h' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, maxReplicas: 3 } },
    expected: { metadata: { name: 'h' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, maxReplicas: 3, minReplicas: 1 } },
  },
  {
    name: 'a NetworkPolicy with egress rules',
    gvk: ['networking.k8s.io', 'v1', 'NetworkPolicy'],
    input: { metadata: { name: 'np' }, spec: { podSelector: {}, ingress: [{ ports: [{ port: 80 }] }], egress: [{ ports: [{ port: 53, protocol: 'UDP' }] }] } },
    expected: {
      metadata: { name: 'np' },
      spec: {
        podSelector: {},
        ingress: [{ ports: [{ port: 80, protocol: 'TCP' }] }],
        egress: [{ ports: [{ port: 53, protocol: 'UDP' }] }],
        policyTypes: ['Ingress', 'Egress'],
      },
    },
  },
  {
    name: 'a NetworkPolicy denying all ingress',
    gvk: ['networking.k8s.io', 'v1', 'NetworkPolicy'],
    input: { metadata: { name: 'deny' }, spec: { podSelector: {} } },
    expected: { metadata: { name: 'deny' }, spec: { podSelector: {}, policyTypes: ['Ingress'] } },
  },
  {
    name: 'an IngressClass with parameters',
    gvk: ['networking.k8s.io', 'v1', 'IngressClass'],
    input: { metadata: { name: 'ic' }, spec: { controller: 'example.com/ingress', parameters: { apiGroup: 'k8s.example.com', kind: 'P', name: 'p' } } },
    expected: {
      metadata: { name: 'ic' },
      spec: { controller: 'example.com/ingress', parameters: { apiGroup: 'k8s.example.com', kind: 'P', name: 'p', scope: 'Cluster' } },
    },
  },
  {
    name: 'a RoleBinding',
    gvk: ['rbac.authorization.k8s.io', 'v1', 'RoleBinding'],
    input: {
      metadata: { name: 'rb' },
      roleRef: { kind: 'Role', name: 'pod-reader' },
      subjects: [{ kind: 'User', name: 'jane' }, { kind: 'ServiceAccount', name: 'default', namespace: 'default' }, { kind: 'Group', name: 'devs' }],
    },
    expected: {
      metadata: { name: 'rb' },
      roleRef: { kind: 'Role', name: 'pod-reader', apiGroup: 'rbac.authorization.k8s.io' },
      subjects: [
        { kind: 'User', name: 'jane', apiGroup: 'rbac.authorization.k8s.io' },
        { kind: 'ServiceAccount', name: 'default', namespace: 'default' },
        { kind: 'Group', name: 'devs', apiGroup: 'rbac.authorization.k8s.io' },
      ],
    },
  },
  {
    name: 'a ClusterRoleBinding',
    gvk: ['rbac.authorization.k8s.io', 'v1', 'ClusterRoleBinding'],
    input: { metadata: { name: 'crb' }, roleRef: { kind: 'ClusterRole', name: 'view', apiGroup: 'rbac.authorization.k8s.io' }, subjects: [{ kind: 'Group', name: 'g' }] },
    expected: {
      metadata: { name: 'crb' },
      roleRef: { kind: 'ClusterRole', name: 'view', apiGroup: 'rbac.authorization.k8s.io' },
      subjects: [{ kind: 'Group', name: 'g', apiGroup: 'rbac.authorization.k8s.io' }],
    },
  },
  {
    name: 'a StorageClass',
    gvk: ['storage.k8s.io', 'v1', 'StorageClass'],
    input: { metadata: { name: 'standard' }, provisioner: 'rancher.io/local-path' },
    expected: { metadata: { name: 'standard' }, provisioner: 'rancher.io/local-path', reclaimPolicy: 'Delete', volumeBindingMode: 'Immediate' },
  },
  {
    name: 'a CSIDriver',
    gvk: ['storage.k8s.io', 'v1', 'CSIDriver'],
    input: { metadata: { name: 'csi.example.com' }, spec: {} },
    expected: {
      metadata: { name: 'csi.example.com' },
      spec: {
        attachRequired: true,
        podInfoOnMount: false,
        storageCapacity: false,
        fsGroupPolicy: 'ReadWriteOnceWithFSType',
        volumeLifecycleModes: ['Persistent'],
        requiresRepublish: false,
        seLinuxMount: false,
      },
    },
  },
  {
    name: 'a VolumeAttachment with an inline volume spec',
    gvk: ['storage.k8s.io', 'v1', 'VolumeAttachment'],
    input: { metadata: { name: 'va' }, spec: { attacher: 'a', nodeName: 'n', source: { inlineVolumeSpec: { capacity: { storage: '0.5Gi' }, rbd: { monitors: ['m'], image: 'i' } } } } },
    expected: {
      metadata: { name: 'va' },
      spec: {
        attacher: 'a',
        nodeName: 'n',
        source: {
          inlineVolumeSpec: {
            capacity: { storage: '512Mi' },
            rbd: { monitors: ['m'], image: 'i', pool: 'rbd', user: 'admin', keyring: '/etc/ceph/keyring' },
          },
        },
      },
    },
  },
  {
    name: 'a PriorityClass',
    gvk: ['scheduling.k8s.io', 'v1', 'PriorityClass'],
    input: { metadata: { name: 'high' }, value: 1000000 },
    expected: { metadata: { name: 'high' }, value: 1000000, preemptionPolicy: 'PreemptLowerPriority' },
  },
  {
    name: 'an EndpointSlice',
    gvk: ['discovery.k8s.io', 'v1', 'EndpointSlice'],
    input: { metadata: { name: 'es' }, addressType: 'IPv4', endpoints: [{ addresses: ['10.42.0.5'] }], ports: [{ port: 80 }] },
    expected: {
      metadata: { name: 'es' },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.42.0.5'] }],
      ports: [{ port: 80, name: '', protocol: 'TCP' }],
    },
  },
  {
    name: 'a ValidatingWebhookConfiguration',
    gvk: ['admissionregistration.k8s.io', 'v1', 'ValidatingWebhookConfiguration'],
    input: {
      metadata: { name: 'v' },
      webhooks: [{
        name: 'v.example.com',
        clientConfig: { service: { namespace: 'ns', name: 'svc' } },
        rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }],
        sideEffects: 'None',
        admissionReviewVersions: ['v1'],
      }],
    },
    expected: {
      metadata: { name: 'v' },
      webhooks: [{
        name: 'v.example.com',
        clientConfig: { service: { namespace: 'ns', name: 'svc', port: 443 } },
        rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'], scope: '*' }],
        sideEffects: 'None',
        admissionReviewVersions: ['v1'],
        failurePolicy: 'Fail',
        matchPolicy: 'Equivalent',
        namespaceSelector: {},
        objectSelector: {},
        timeoutSeconds: 10,
      }],
    },
  },
  {
    name: 'a MutatingWebhookConfiguration',
    gvk: ['admissionregistration.k8s.io', 'v1', 'MutatingWebhookConfiguration'],
    input: { metadata: { name: 'm' }, webhooks: [{ name: 'm.example.com', clientConfig: { url: 'https://x' }, sideEffects: 'None', admissionReviewVersions: ['v1'] }] },
    expected: {
      metadata: { name: 'm' },
      webhooks: [{
        name: 'm.example.com',
        clientConfig: { url: 'https://x' },
        sideEffects: 'None',
        admissionReviewVersions: ['v1'],
        failurePolicy: 'Fail',
        matchPolicy: 'Equivalent',
        namespaceSelector: {},
        objectSelector: {},
        timeoutSeconds: 10,
        reinvocationPolicy: 'Never',
      }],
    },
  },
  {
    name: 'a ValidatingAdmissionPolicy',
    gvk: ['admissionregistration.k8s.io', 'v1', 'ValidatingAdmissionPolicy'],
    input: {
      metadata: { name: 'p' },
      spec: { matchConstraints: { resourceRules: [{ apiGroups: ['apps'], apiVersions: ['v1'], operations: ['CREATE'], resources: ['deployments'] }] }, validations: [{ expression: 'true' }] },
    },
    expected: {
      metadata: { name: 'p' },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: {
          resourceRules: [{ apiGroups: ['apps'], apiVersions: ['v1'], operations: ['CREATE'], resources: ['deployments'], scope: '*' }],
          matchPolicy: 'Equivalent',
          namespaceSelector: {},
          objectSelector: {},
        },
        validations: [{ expression: 'true' }],
      },
    },
  },
  {
    name: 'a ValidatingAdmissionPolicyBinding',
    gvk: ['admissionregistration.k8s.io', 'v1', 'ValidatingAdmissionPolicyBinding'],
    input: { metadata: { name: 'b' }, spec: { policyName: 'p', validationActions: ['Deny'], matchResources: {} } },
    expected: {
      metadata: { name: 'b' },
      spec: { policyName: 'p', validationActions: ['Deny'], matchResources: { matchPolicy: 'Equivalent', namespaceSelector: {}, objectSelector: {} } },
    },
  },
  {
    name: 'the textbook CronTab CustomResourceDefinition',
    gvk: ['apiextensions.k8s.io', 'v1', 'CustomResourceDefinition'],
    input: {
      metadata: { name: 'crontabs.stable.example.com' },
      spec: {
        group: 'stable.example.com',
        scope: 'Namespaced',
        names: { plural: 'crontabs', kind: 'CronTab', shortNames: ['ct'] },
        versions: [
          { name: 'v1beta1', served: true, storage: false, schema: { openAPIV3Schema: { type: 'object' } } },
          { name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } } },
        ],
      },
    },
    expected: {
      metadata: { name: 'crontabs.stable.example.com' },
      spec: {
        group: 'stable.example.com',
        scope: 'Namespaced',
        names: { plural: 'crontabs', kind: 'CronTab', shortNames: ['ct'], singular: 'crontab', listKind: 'CronTabList' },
        versions: [
          { name: 'v1beta1', served: true, storage: false, schema: { openAPIV3Schema: { type: 'object' } } },
          { name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } } },
        ],
        conversion: { strategy: 'None' },
      },
      status: { storedVersions: ['v1'] },
    },
  },
];

function defaulted(c: Case, obj: JsonObject = structuredClone(c.input)): JsonObject {
  applyDefaults(c.gvk[0], c.gvk[1], c.gvk[2], obj);
  return obj;
}

describe('applyDefaults', () => {
  for (const c of cases) {
    test(`defaulting ${c.name} matches upstream`, () => {
      assert.deepEqual(defaulted(c), c.expected);
    });
  }

  test('applying defaults twice changes nothing, for every case', () => {
    for (const c of cases) {
      const once = defaulted(c);
      const twice = defaulted(c, structuredClone(once));
      assert.deepEqual(twice, once, c.name);
    }
  });

  test('every defaulted kind has a case', () => {
    const covered = new Set(cases.map((c) => c.gvk.join('/')));
    const missing = defaultedKinds().map((k) => k.join('/')).filter((k) => !covered.has(k));
    assert.deepEqual(missing, []);
  });

  test('default values are never shared between objects', () => {
    const c = cases.find((x) => x.gvk[2] === 'HorizontalPodAutoscaler' && x.gvk[1] === 'v2');
    assert.ok(c);
    const a = defaulted(c);
    const b = defaulted(c);
    ((a['spec'] as JsonObject)['metrics'] as JsonObject[]).push({});
    assert.equal(((b['spec'] as JsonObject)['metrics'] as unknown[]).length, 1);
  });

  test('kinds without defaults and non-objects are left alone', () => {
    const cm = { metadata: { name: 'c' }, data: { a: 'b' } };
    applyDefaults('', 'v1', 'ConfigMap', cm);
    assert.deepEqual(cm, { metadata: { name: 'c' }, data: { a: 'b' } });
    assert.equal(hasDefaults('', 'v1', 'ConfigMap'), false);
    assert.equal(hasDefaults('apps', 'v1', 'Deployment'), true);
    assert.doesNotThrow(() => applyDefaults('', 'v1', 'Pod', 'not an object'));
  });

  test('malformed fields are skipped rather than thrown on', () => {
    const weird: JsonObject[] = [
      { spec: 'x' },
      { spec: { containers: 'x', volumes: [null, 3, { name: 'v', secret: 'x' }] } },
      { spec: { template: [] } },
      { spec: { containers: [{ resources: 'x', ports: [null] }] } },
    ];
    for (const [group, version, kind] of defaultedKinds()) {
      for (const w of weird) assert.doesNotThrow(() => applyDefaults(group, version, kind, structuredClone(w)), `${kind} ${JSON.stringify(w)}`);
    }
  });

  test('null reads as unset, as Go decodes it', () => {
    const pod = { spec: { containers: [{ name: 'c', image: 'busybox:1', imagePullPolicy: null }], securityContext: null, terminationGracePeriodSeconds: null } };
    applyDefaults('', 'v1', 'Pod', pod);
    const spec = pod.spec as unknown as JsonObject;
    assert.deepEqual(spec['securityContext'], {});
    assert.equal(spec['terminationGracePeriodSeconds'], 30);
    assert.equal((spec['containers'] as JsonObject[])[0]?.['imagePullPolicy'], 'IfNotPresent');
  });
});
